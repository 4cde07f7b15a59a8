// What a failed send means for its recipient. A broadcast is never sent twice, so anything that may have reached
// Telegram is 'ambiguous'; only errors that prove nothing was delivered are tried again.
import { RetryLaterError } from '../../lib/telegram-budget';
import { networkCodeOf, requestNeverLeft, telegramError } from '../../lib/telegram-send';
import type { Outcome } from './recipients';

/** Attempts (5xx, a connection refused) before a recipient is given up as failed. */
export const MAX_ATTEMPTS = 3;

/** 400s that mean the user cannot be written to, like a 403 does. */
const UNREACHABLE_400 = /chat not found|user is deactivated|bot was blocked|PEER_ID_INVALID|USER_IS_BLOCKED/i;

const backoff = (attempts: number) => new Date(Date.now() + Math.min(60_000, 2_000 * 2 ** (attempts - 1)));

export function failureOutcome(userId: string, attempts: number, error: unknown): Outcome {
  if (error instanceof RetryLaterError) {
    return { userId, status: 'pending', release: true, retryAt: new Date(Date.now() + error.retryAfterMs) };
  }
  const failure = telegramError(error);
  if (failure) {
    const error = `${failure.code}: ${failure.description}`.slice(0, 300);
    if (failure.code === 429) {
      const retryAt = new Date(Date.now() + (failure.retryAfterSeconds ?? 1) * 1000);
      return { userId, status: 'pending', release: true, retryAt, error };
    }
    if (failure.code === 403 || (failure.code === 400 && UNREACHABLE_400.test(failure.description))) {
      return { userId, status: 'blocked', error };
    }
    if (failure.code >= 500 && attempts < MAX_ATTEMPTS) {
      return { userId, status: 'pending', retryAt: backoff(attempts), error };
    }
    // Another 400 (the content itself was refused) or a 5xx too often: trying again would not help.
    return { userId, status: 'failed', error };
  }
  const message = `${networkCodeOf(error) ?? ''} ${(error as Error)?.message ?? String(error)}`.trim().slice(0, 300);
  if (requestNeverLeft(error)) {
    return attempts < MAX_ATTEMPTS
      ? { userId, status: 'pending', retryAt: backoff(attempts), error: message }
      : { userId, status: 'failed', error: message };
  }
  // A timeout or a reset after the request was written: Telegram may have delivered it.
  return { userId, status: 'ambiguous', error: message };
}
