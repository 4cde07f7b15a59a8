// A loop that retries through an outage logs its start, a reminder now and then, and its end: not one line per
// attempt (a scan every 250 ms would write four error lines a second while PostgreSQL restarts).
import type { Logger } from './logger';

export class OutageLog {
  private since: number | undefined;
  private lastReported = 0;
  private failures = 0;

  constructor(
    private readonly log: Logger,
    private readonly what: string,
    private readonly remindEveryMs = 30_000,
  ) {}

  /** How many attempts in a row have failed. */
  get consecutiveFailures(): number {
    return this.failures;
  }

  failed(error: unknown, context: object = {}): void {
    this.failures++;
    const now = Date.now();
    if (this.since === undefined) {
      this.since = now;
      this.lastReported = now;
      this.log.error({ ...context, err: error }, `${this.what} failed; retrying`);
    } else if (now - this.lastReported >= this.remindEveryMs) {
      this.lastReported = now;
      this.log.error(
        { ...context, err: error, failing_for_ms: now - this.since, attempts: this.failures },
        `${this.what} still failing; retrying`,
      );
    }
  }

  succeeded(): void {
    if (this.since !== undefined) {
      this.log.warn({ failed_for_ms: Date.now() - this.since, attempts: this.failures }, `${this.what} works again`);
    }
    this.since = undefined;
    this.failures = 0;
  }
}
