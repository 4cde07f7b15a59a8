// Telegram's published flood limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
// about one message per second per chat, 30 per second overall, up to 1,000 per second for paid broadcasts
// (allow_paid_broadcast). Modelled as token buckets so short bursts pass.
import type { RateLimits } from './types';

export const DEFAULT_RATE_LIMITS: RateLimits = {
  perChatPerSecond: 1,
  perChatBurst: 3,
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

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.global = new TokenBucket(limits.globalBurst, limits.globalPerSecond, now());
    this.paid = new TokenBucket(limits.paidBurst, limits.paidPerSecond, now());
  }

  /**
   * Consumes one message slot for the chat (from the paid budget for a paid broadcast), or returns the retry_after
   * (whole seconds, >= 1) Telegram would give.
   */
  acquire(chatId: number, paid = false): { ok: true } | { ok: false; retryAfter: number } {
    const now = this.now();
    let chat = this.chats.get(chatId);
    if (!chat) {
      chat = new TokenBucket(this.limits.perChatBurst, this.limits.perChatPerSecond, now);
      this.chats.set(chatId, chat);
    }
    const global = paid ? this.paid : this.global;
    const wait = Math.max(chat.waitSeconds(now), global.waitSeconds(now));
    if (wait > 0) return { ok: false, retryAfter: Math.max(1, Math.ceil(wait)) };
    chat.take(now);
    global.take(now);
    return { ok: true };
  }
}
