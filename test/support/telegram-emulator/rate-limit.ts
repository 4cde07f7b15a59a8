// Telegram's published flood limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
// about one message per second per chat, 20 per minute per group, 30 per second overall, up to 1,000 per second
// for paid broadcasts (allow_paid_broadcast, a budget of its own; the per-chat and per-group limits still apply).
// Modelled as token buckets so short bursts pass.
import type { RateLimits } from './types';

export const DEFAULT_RATE_LIMITS: RateLimits = {
  perChatPerSecond: 1,
  perChatBurst: 3,
  perGroupPerMinute: 20,
  perGroupBurst: 20,
  globalPerSecond: 30,
  globalBurst: 30,
  paidPerSecond: 1000,
  paidBurst: 1000,
};

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  /** Seconds until one token is available (0 when one is available now). */
  waitSeconds(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : (1 - this.tokens) / this.perSecond;
  }

  take(now: number): void {
    this.refill(now);
    this.tokens -= 1;
  }

  private refill(now: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
  }
}

export class FloodControl {
  private readonly global: TokenBucket;
  private readonly paid: TokenBucket;
  private readonly chats = new Map<number, TokenBucket>();
  private readonly groups = new Map<number, TokenBucket>();

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.global = new TokenBucket(limits.globalBurst, limits.globalPerSecond, now());
    this.paid = new TokenBucket(limits.paidBurst, limits.paidPerSecond, now());
  }

  /**
   * Consumes one message slot for the chat (from the paid budget for a paid broadcast), or returns the retry_after
   * (whole seconds, >= 1) Telegram would give. Negative chat ids are groups (and channels): 20 a minute each too.
   */
  acquire(chatId: number, paid = false): { ok: true } | { ok: false; retryAfter: number } {
    const now = this.now();
    const chat = bucketOf(
      this.chats,
      chatId,
      () => new TokenBucket(this.limits.perChatBurst, this.limits.perChatPerSecond, now),
    );
    const group =
      chatId < 0
        ? bucketOf(
            this.groups,
            chatId,
            () => new TokenBucket(this.limits.perGroupBurst, this.limits.perGroupPerMinute / 60, now),
          )
        : undefined;
    const global = paid ? this.paid : this.global;
    const wait = Math.max(chat.waitSeconds(now), global.waitSeconds(now), group?.waitSeconds(now) ?? 0);
    if (wait > 0) return { ok: false, retryAfter: Math.max(1, Math.ceil(wait)) };
    chat.take(now);
    group?.take(now);
    global.take(now);
    return { ok: true };
  }
}

function bucketOf(buckets: Map<number, TokenBucket>, id: number, create: () => TokenBucket): TokenBucket {
  let bucket = buckets.get(id);
  if (!bucket) {
    bucket = create();
    buckets.set(id, bucket);
  }
  return bucket;
}
