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
