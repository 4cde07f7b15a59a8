// How bot-gateway's first call to Telegram (getMe) failed: the token refused (a configuration error, final) or the
// Bot API not reached at all (a dependency away, retried).

/** "401 Unauthorized" when Telegram refused the token (401, or 404 for a token it cannot even route); else null. */
export function telegramRefusal(error: unknown): string | null {
  const e = error as { response?: { error_code?: unknown; description?: unknown } };
  const code = e?.response?.error_code;
  if (code !== 401 && code !== 404) return null;
  return `${code} ${typeof e.response?.description === 'string' ? e.response.description : ''}`.trim();
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
