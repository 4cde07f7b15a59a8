// Waiting out a neighbour's short outage with backoff: every channel handler does (lib/channels.ts), and so do
// steps whose repetition would mean something else (recording that a message was sent).
import { Errors } from 'moleculer';

export interface RetryOptions {
  /** Total time to keep trying. */
  budgetMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  onRetry?(error: unknown, attempt: number): void;
}

/** A bad message stays bad: validation errors and client errors are not retried. */
export function isPermanent(error: unknown): boolean {
  return (
    error instanceof Errors.ValidationError ||
    (error instanceof Errors.MoleculerClientError && !(error as Errors.MoleculerError).retryable)
  );
}

export async function retryTransient<T>(work: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.budgetMs ?? 20_000);
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const delay = Math.min((options.baseDelayMs ?? 250) * 2 ** (attempt - 1), options.maxDelayMs ?? 4000);
      if (isPermanent(error) || Date.now() + delay > deadline) throw error;
      options.onRetry?.(error, attempt);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
