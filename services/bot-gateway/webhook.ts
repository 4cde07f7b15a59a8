// Webhook mode: Telegram proves an update is genuine with the secret it was given in setWebhook.
import { createHash, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_PATH = '/telegram/webhook';

export function webhookUrl(domain: string): string {
  return `${domain.replace(/\/+$/, '')}${WEBHOOK_PATH}`;
}

/** Constant-time comparison (hashing first makes lengths equal, so the length leaks nothing either). */
export function secretMatches(received: string | undefined, expected: string | undefined): boolean {
  if (!expected || received === undefined) return false;
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(received), digest(expected));
}

/** Only the shape the bot relies on; everything else about an update is telegraf's to read. */
export function isTelegramUpdate(value: unknown): value is { update_id: number } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const id = (value as Record<string, unknown>)['update_id'];
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0;
}
