// How bot-gateway's first call to Telegram (getMe) failed: the token refused (a configuration error, final) or the
// Bot API not reached at all (a dependency away, retried).
import { telegramError } from '../../lib/telegram-send';

/** "401 Unauthorized" when Telegram refused the token (401, or 404 for a token it cannot even route); else null. */
export function telegramRefusal(error: unknown): string | null {
  const refusal = telegramError(error);
  if (refusal?.code !== 401 && refusal?.code !== 404) return null;
  return `${refusal.code} ${refusal.description}`.trim();
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The network error's code (ECONNREFUSED, ENOTFOUND, …) when no answer came back at all; else null. */
export function networkFailure(error: unknown): string | null {
  const e = error as { code?: unknown; errno?: unknown; type?: unknown; cause?: { code?: unknown } };
  for (const code of [e?.code, e?.errno, e?.cause?.code])
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  // node-fetch (telegraf's client) marks a failed connection as a FetchError of type "system".
  if (e?.type === 'system' || e?.type === 'request-timeout') return String(e.code ?? e.type);
  return null;
}
