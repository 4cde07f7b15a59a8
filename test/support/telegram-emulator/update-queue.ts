// Pending updates, shared by getUpdates and webhook delivery. As in Telegram, an update stays queued until it
// is confirmed (getUpdates with a higher offset) or delivered (webhook answered 2xx).
import { randomInt } from 'node:crypto';
import type { Update, UpdateType } from './types';

/** Update types delivered when allowed_updates is empty or was never set. */
const DEFAULT_EXCLUDED: readonly string[] = ['chat_member', 'message_reaction', 'message_reaction_count'];

export class UpdateQueue {
  private updates: Update[] = [];
  private nextId: number;
  private allowed: string[] = [];
  private readonly listeners = new Set<() => void>();

  /** Telegram's first update_id of a bot is not 1 (and is random after a week of silence). */
  constructor(firstUpdateId = randomInt(100_000_000, 900_000_000)) {
    this.nextId = firstUpdateId;
  }

  get size(): number {
    return this.updates.length;
  }

  get allowedUpdates(): string[] {
    return [...this.allowed];
  }

  setAllowedUpdates(types: string[] | undefined): void {
    if (types !== undefined) this.allowed = [...types];
  }

  /** Assigns the next update_id and queues the update; undefined if allowed_updates filters its type out. */
  push(payload: Partial<Record<UpdateType, unknown>>): Update | undefined {
    const type = Object.keys(payload)[0] ?? '';
    const allowed = this.allowed.length > 0 ? this.allowed.includes(type) : !DEFAULT_EXCLUDED.includes(type);
    if (!allowed) return undefined;
    const update = { update_id: this.nextId++, ...payload } as Update;
    this.updates.push(update);
    this.notify();
    return update;
  }

  /** getUpdates offset semantics: positive confirms every earlier update, negative keeps only the last -offset. */
  applyOffset(offset: number | undefined): void {
    if (offset === undefined || offset === 0) return;
    const before = this.updates.length;
    if (offset > 0) this.updates = this.updates.filter((u) => u.update_id >= offset);
    else this.updates = this.updates.slice(Math.max(0, this.updates.length + offset));
    if (this.updates.length !== before) this.notify();
  }

  peek(limit: number): Update[] {
    return this.updates.slice(0, limit).map((u) => structuredClone(u));
  }

  first(): Update | undefined {
    return this.updates[0];
  }

  remove(updateId: number): void {
    const before = this.updates.length;
    this.updates = this.updates.filter((u) => u.update_id !== updateId);
    if (this.updates.length !== before) this.notify();
  }

  clear(): void {
    if (this.updates.length === 0) return;
    this.updates = [];
    this.notify();
  }

  /** Called (synchronously) whenever the queue changes. Returns an unsubscribe function. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Resolves once the queue holds an update, after timeoutMs, or when the signal aborts. Wakes on the next
   * macrotask rather than synchronously so that updates pushed together are answered together.
   */
  waitForUpdates(timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.updates.length > 0 || timeoutMs <= 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let wake: NodeJS.Immediate | undefined;
      const done = (): void => {
        clearTimeout(timer);
        if (wake) clearImmediate(wake);
        unsubscribe();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      const unsubscribe = this.subscribe(() => {
        if (this.updates.length > 0 && !wake) wake = setImmediate(done);
      });
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}
