// Group commit: requests of concurrent callers share one transaction, and so one WAL flush and one turn on each hot
// row they lock, while each keeps its own answer. With synchronous_commit on, a transaction per request would cap
// every hot row (a user's balance, the day's withdrawal total) at one commit per flush.
import type pg from 'pg';
import { inTransaction } from '../../lib/db';

/** One request's answer within a batch: its result, or its own refusal (the others still commit). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

export const answer = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const refuse = (error: unknown): Outcome<never> => ({ ok: false, error });

export function unwrap<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}

export interface GroupCommitOptions<Req, Res> {
  pool: pg.Pool;
  /** Decides and writes a batch in the transaction given: one outcome per request, in order. */
  run(client: pg.PoolClient, batch: Req[]): Promise<Outcome<Res>[]>;
  /** At most this many requests share a transaction (default 100). */
  maxBatch?: number;
  /**
   * Batches in flight at once (default 2): one is deciding and writing while another commits, so a hot row's lock,
   * taken last, is held only across the commit.
   */
  inFlight?: number;
  /** Requests with the same key never share a batch: a later one waits for the next, as if it came after. */
  key?(request: Req): string;
}

interface Waiting<Req, Res> {
  request: Req;
  resolve(value: Res): void;
  reject(error: unknown): void;
}

/**
 * A queue that commits whatever has gathered while the batches before were in flight, so a lone request goes at
 * once and a busy one waits for about one batch. Answers are given only after the commit.
 */
export class GroupCommit<Req, Res> {
  private queue: Waiting<Req, Res>[] = [];
  private active = 0;
  private readonly workers = new Set<Promise<void>>();

  constructor(private readonly options: GroupCommitOptions<Req, Res>) {}

  submit(request: Req): Promise<Res> {
    const answered = new Promise<Res>((resolve, reject) => this.queue.push({ request, resolve, reject }));
    if (this.active < (this.options.inFlight ?? 2)) {
      const worker = this.work();
      this.workers.add(worker);
      void worker.finally(() => this.workers.delete(worker));
    }
    return answered;
  }

  /** Resolves once every request submitted so far is answered. */
  async idle(): Promise<void> {
    await Promise.all(this.workers);
  }

  private async work(): Promise<void> {
    this.active++;
    try {
      while (this.queue.length > 0) await this.commit(this.take());
    } finally {
      // In the same turn as the last look at the queue, so a request submitted after it starts a worker.
      this.active--;
    }
  }

  private take(): Waiting<Req, Res>[] {
    const max = this.options.maxBatch ?? 100;
    const batch: Waiting<Req, Res>[] = [];
    const later: Waiting<Req, Res>[] = [];
    const keys = new Set<string>();
    for (const waiting of this.queue) {
      const key = this.options.key?.(waiting.request);
      if (batch.length >= max || (key !== undefined && keys.has(key))) {
        later.push(waiting);
        continue;
      }
      if (key !== undefined) keys.add(key);
      batch.push(waiting);
    }
    this.queue = later;
    return batch;
  }

  private async commit(batch: Waiting<Req, Res>[]): Promise<void> {
    let outcomes: Outcome<Res>[];
    try {
      outcomes = await inTransaction(this.options.pool, async (client) => {
        const decided = await this.options.run(
          client,
          batch.map((w) => w.request),
        );
        if (decided.length !== batch.length) throw new Error(`${decided.length} outcomes for ${batch.length} requests`);
        return decided;
      });
    } catch (error) {
      if (batch.length > 1) return this.commitOneByOne(batch);
      batch[0]!.reject(error);
      return;
    }
    outcomes.forEach((outcome, i) => (outcome.ok ? batch[i]!.resolve(outcome.value) : batch[i]!.reject(outcome.error)));
  }

  /**
   * A batch that failed as a whole: each request alone, so the one that caused it fails alone. Side by side, so a
   * database that is away costs them one wait, not one each.
   */
  private async commitOneByOne(batch: Waiting<Req, Res>[]): Promise<void> {
    await Promise.all(batch.map((waiting) => this.commit([waiting])));
  }
}
