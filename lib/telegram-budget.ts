// One Telegram rate budget per bot, shared by every replica of every sender (notifier, broadcaster): about 30
// messages/s for the bot, 1/s per chat and 20/min per group (https://core.telegram.org/bots/faq), a separate paid
// rate for allow_paid_broadcast (up to 1,000/s), and one shared "paused until" that a 429 sets for its
// retry_after. Counting is rate-limiter-flexible's RateLimiterRedis (an atomic conditional increment in Redis)
// with a RateLimiterMemory insurance limiter that takes over while Redis is down. docs/telegram-budget.md.
//
// The library's windows are whole seconds. A fixed window of 30/s lets 60 messages through around a window's edge,
// which Telegram (a token bucket of 30) answers with 429s, so the budget counts short slots instead: the key
// carries the slot number, and each slot holds ceil(rate / 3) messages (10 per 334 ms at 30/s, 7 per 21 s for a
// group), so at most twice that can pass around an edge, well inside Telegram's burst.
//
// Priority: broadcast traffic may fill a whole slot, except while transactional messages wait for one. A
// transactional take that finds its slot full registers in a short-lived Redis sorted set (score: when it gives
// up) until it gets a slot; a broadcast take leaves as many places in the slot as takers are registered there.
// So at full broadcast speed a transactional message waits at most for the next slot (a third of a second).
import { randomBytes } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from './redis';

/**
 * transactional: served first (deposits, withdrawals, support); broadcast: the rest of the free budget; paid: a
 * paid broadcast (allow_paid_broadcast), counted against the paid rate instead of the free one.
 */
export type SendPriority = 'transactional' | 'broadcast' | 'paid';

/** Telegram's ceiling for paid broadcasts. */
export const MAX_PAID_RATE = 1000;

export interface TelegramBudgetOptions {
  /** Keys are `<namespace>:tg-budget:<botId>:…`. */
  namespace: string;
  /** The bot's numeric id (the part of its token before the colon). */
  botId: string;
  /** Messages per second for the bot across every replica (Telegram: 30). */
  globalRate?: number;
  /** Messages per second to one chat (Telegram: 1). */
  perChatRate?: number;
  /** Messages per minute to one group chat, a negative chat id (Telegram: 20). */
  perGroupPerMinute?: number;
  /** Paid-broadcast messages per second across every replica (at most 1,000; default 1,000). */
  paidRate?: number;
  /** The longest a take waits in place (for a slot or a shared pause); longer waits answer RetryLaterError. */
  maxWaitMs?: number;
}

/** The budget cannot give a slot soon enough: the caller reschedules the send instead of sleeping. */
export class RetryLaterError extends Error {
  constructor(readonly retryAfterMs: number) {
    super(`Telegram budget: retry in ${retryAfterMs} ms`);
    this.name = 'RetryLaterError';
  }
}

const PAUSE = `local current = tonumber(redis.call('get', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1`;

/** A transactional taker waits: ARGV member, give-up time (ms), key expiry (ms). */
const REGISTER_WAITING = `redis.call('zadd', KEYS[1], ARGV[2], ARGV[1])
redis.call('pexpire', KEYS[1], ARGV[3])
return 1`;

/** Bot id of a Bot API token ("123456:AA…" → "123456"). */
export function botIdOf(token: string): string {
  return token.split(':')[0] ?? token;
}

/**
 * rate-limiter-flexible's increment script, made conditional: a message that would take the slot past the
 * limiter's points is refused without being counted, so refusals (a broadcast at its ceiling, anyone in a full
 * slot) never eat into what the slot has left. ARGV: points to take, expiry in seconds, the limiter's points.
 * Every limiter on one ioredis client must use the same script (the library defines it as one named command).
 */
const CONDITIONAL_INCR = `redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local current = tonumber(redis.call('get', KEYS[1]))
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
local wanted = current + tonumber(ARGV[1])
if wanted > tonumber(ARGV[3]) then return {wanted, ttl} end
return {redis.call('incrby', KEYS[1], ARGV[1]), ttl}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How often, and how far apart, a broadcast refused only by the transactional reserve looks again in its slot. */
const CEILING_LOOKS = 4;
const CEILING_LOOK_MS = 5;

/**
 * One counter in slots: `rate` messages per `windowMs`, as slots of ceil(rate / 3). Limiters of lower ceilings
 * count in the same keys (a broadcast giving way); all share one insurance limiter of the full slot.
 */
class SlotCounter {
  readonly points: number;
  readonly slotMs: number;
  private readonly limiters = new Map<number, RateLimiterRedis>();
  private readonly duration: number;
  private readonly insuranceLimiter: RateLimiterMemory;
  /** The last slot this process counted in memory while Redis was not ready. */
  private fallbackSlot = -1;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    rate: number,
    windowMs: number,
  ) {
    this.points = Math.max(1, Math.ceil(rate / 3));
    this.slotMs = Math.ceil((windowMs * this.points) / rate);
    // Keys outlive their slot by a second at least; the slot number in the key, not the expiry, makes the window.
    this.duration = Math.ceil(this.slotMs / 1000) + 1;
    // While Redis is down each process counts for itself, up to the whole slot.
    this.insuranceLimiter = new RateLimiterMemory({ keyPrefix, points: this.points, duration: this.duration });
  }

  slotAt(now: number): number {
    return Math.floor(now / this.slotMs);
  }

  /** Takes `messages` places of the slot if it holds fewer than `ceiling` (default: the whole slot) after that. */
  async tryTake(key: string, slot: number, messages: number, ceiling = this.points): Promise<boolean> {
    return (await this.take(key, slot, messages, ceiling)) === 'taken';
  }

  /** As tryTake, saying why not: the slot is full, or only the ceiling kept the places it still has. */
  async take(
    key: string,
    slot: number,
    messages: number,
    ceiling = this.points,
  ): Promise<'taken' | 'full' | 'ceiling'> {
    const wanted = Math.min(messages, this.points);
    if (ceiling < wanted) return 'ceiling';
    // Redis does not know what the insurance limiter gave out in this slot (Redis came back, or was not yet
    // connected): this process waits for the next slot rather than count the slot twice.
    if (this.redis.status !== 'ready') this.fallbackSlot = slot;
    else if (slot === this.fallbackSlot) return 'full';
    try {
      await this.limiter(ceiling).consume(`${key}:${slot}`, wanted);
      return 'taken';
    } catch (error) {
      // Refused, uncounted: consumedPoints is what the slot would have held with these messages.
      if (error instanceof RateLimiterRes) return error.consumedPoints <= this.points ? 'ceiling' : 'full';
      throw error;
    }
  }

  private limiter(ceiling: number): RateLimiterRedis {
    let limiter = this.limiters.get(ceiling);
    if (!limiter) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: this.keyPrefix,
        points: ceiling,
        duration: this.duration,
        customIncrTtlLuaScript: CONDITIONAL_INCR,
        rejectIfRedisNotReady: true,
        insuranceLimiter: this.insuranceLimiter,
      });
      this.limiters.set(ceiling, limiter);
    }
    return limiter;
  }
}

export class TelegramBudget {
  private readonly global: SlotCounter;
  private readonly paid: SlotCounter;
  private readonly chat: SlotCounter;
  private readonly group: SlotCounter;
  private readonly maxWaitMs: number;
  private readonly pauseKey: string;
  private readonly waitingKey: string;
  /** This process's own copy of the pause: honoured while Redis cannot be asked. */
  private localPausedUntil = 0;
  /** Transactional takes of this process waiting for a global slot: the priority while Redis is down. */
  private localWaiting = 0;
  private readonly takerPrefix = randomBytes(6).toString('hex');
  private takers = 0;

  constructor(
    private readonly redis: Redis,
    options: TelegramBudgetOptions,
  ) {
    const paidRate = options.paidRate ?? MAX_PAID_RATE;
    if (!(paidRate > 0 && paidRate <= MAX_PAID_RATE)) {
      throw new Error(`TelegramBudget: paidRate must be within 1…${MAX_PAID_RATE} messages/s (got ${paidRate})`);
    }
    const prefix = `${options.namespace}:tg-budget:${options.botId}`;
    this.global = new SlotCounter(redis, `${prefix}:global`, options.globalRate ?? 30, 1000);
    this.paid = new SlotCounter(redis, `${prefix}:paid`, paidRate, 1000);
    this.chat = new SlotCounter(redis, `${prefix}:chat`, options.perChatRate ?? 1, 1000);
    this.group = new SlotCounter(redis, `${prefix}:group`, options.perGroupPerMinute ?? 20, 60_000);
    this.maxWaitMs = options.maxWaitMs ?? 5000;
    this.pauseKey = `${prefix}:paused-until`;
    this.waitingKey = `${prefix}:transactional-waiting`;
  }

  /**
   * Waits (at most maxWaitMs in all) for the shared pause to end, a slot for the chat (and its group) and a slot in
   * the bot's budget for `messages` messages (an album: one per item); throws RetryLaterError when that would take
   * longer.
   */
  async take(chatId: string, priority: SendPriority = 'transactional', messages = 1): Promise<void> {
    const deadline = Date.now() + this.maxWaitMs;
    await this.waitPause(deadline);
    await this.takeSlot(this.chat, chatId, messages, deadline);
    if (chatId.startsWith('-')) await this.takeSlot(this.group, chatId, messages, deadline);
    for (;;) {
      if (priority === 'paid') await this.takeSlot(this.paid, 'all', messages, deadline);
      else if (priority === 'broadcast') await this.takeBroadcastSlot(messages, deadline);
      else await this.takeTransactionalSlot(messages, deadline);
      // A 429 paused the bot while this take waited: its slot predates the pause, so it takes a fresh one after.
      if ((await this.pausedForMs()) === 0) return;
      await this.waitPause(deadline);
    }
  }

  /** Telegram answered 429: nobody sends with this bot for retry_after. */
  async pause(retryAfterSeconds: number): Promise<void> {
    const ms = Math.max(1, Math.ceil(retryAfterSeconds * 1000));
    const until = Date.now() + ms;
    this.localPausedUntil = Math.max(this.localPausedUntil, until);
    if (this.redis.status !== 'ready') return;
    await this.redis.eval(PAUSE, 1, this.pauseKey, String(until), String(ms)).catch(() => undefined);
  }

  /** How long the bot is still paused, 0 when it is not. */
  async pausedForMs(): Promise<number> {
    let until = this.localPausedUntil;
    if (this.redis.status === 'ready') {
      const shared = await this.redis.get(this.pauseKey).catch(() => null);
      if (shared !== null) until = Math.max(until, Number(shared));
    }
    return Math.max(0, until - Date.now());
  }

  private async waitPause(deadline: number): Promise<void> {
    for (;;) {
      const ms = await this.pausedForMs();
      if (ms === 0) return;
      if (Date.now() + ms > deadline) throw new RetryLaterError(ms);
      await sleep(ms);
    }
  }

  private async takeSlot(counter: SlotCounter, key: string, messages: number, deadline: number): Promise<void> {
    for (;;) {
      const slot = counter.slotAt(Date.now());
      if (await counter.tryTake(key, slot, messages)) return;
      await this.waitForSlot(counter, slot, deadline);
    }
  }

  /** Sleeps until the slot after `slot`, or throws RetryLaterError if that is past the deadline. */
  private async waitForSlot(counter: SlotCounter, slot: number, deadline: number): Promise<void> {
    const nextSlotAt = (slot + 1) * counter.slotMs;
    if (nextSlotAt > deadline) throw new RetryLaterError(Math.max(1, nextSlotAt - Date.now()));
    await sleep(Math.max(1, nextSlotAt - Date.now()));
  }

  /** Tries once, then registers as waiting (so broadcasts give way) until it gets a slot or gives up. */
  private async takeTransactionalSlot(messages: number, deadline: number): Promise<void> {
    const first = this.global.slotAt(Date.now());
    if (await this.global.tryTake('all', first, messages)) return;
    const member = `${this.takerPrefix}:${this.takers++}`;
    this.localWaiting++;
    await this.registerWaiting(member, deadline);
    try {
      await this.waitForSlot(this.global, first, deadline);
      await this.takeSlot(this.global, 'all', messages, deadline);
    } finally {
      this.localWaiting--;
      if (this.redis.status === 'ready') await this.redis.zrem(this.waitingKey, member).catch(() => undefined);
    }
  }

  /**
   * Fills the slot, leaving one place per transactional take waiting for it. A transactional take counts its place
   * a moment before it stops counting as waiting, so a broadcast the ceiling alone refused looks again a few times
   * within the slot (without that, about half the transactional messages cost the broadcast a second place).
   */
  private async takeBroadcastSlot(messages: number, deadline: number): Promise<void> {
    for (;;) {
      const slot = this.global.slotAt(Date.now());
      for (let look = 0; ; look++) {
        const ceiling = this.global.points - Math.min(await this.waitingTakers(), this.global.points);
        const outcome = await this.global.take('all', slot, messages, ceiling);
        if (outcome === 'taken') return;
        const nextSlotAt = (slot + 1) * this.global.slotMs;
        if (outcome === 'full' || look >= CEILING_LOOKS || Date.now() + CEILING_LOOK_MS >= nextSlotAt) break;
        await sleep(CEILING_LOOK_MS);
      }
      await this.waitForSlot(this.global, slot, deadline);
    }
  }

  private async registerWaiting(member: string, deadline: number): Promise<void> {
    if (this.redis.status !== 'ready') return;
    // Scored by when the taker gives up, so one that died stops counting by then.
    const givesUpAt = deadline + 1000;
    await this.redis
      .eval(REGISTER_WAITING, 1, this.waitingKey, member, String(givesUpAt), String(this.maxWaitMs + 2000))
      .catch(() => undefined);
  }

  /**
   * Transactional takes waiting across every replica. While Redis is down only this process's are known, and a
   * broadcast then gives way entirely (its insurance limiter counts the whole slot, it cannot keep a place).
   */
  private async waitingTakers(): Promise<number> {
    const local = this.localWaiting > 0 ? this.global.points : 0;
    if (this.redis.status !== 'ready') return local;
    const shared = await this.redis.zcount(this.waitingKey, Date.now(), '+inf').catch(() => null);
    return shared === null ? local : Math.max(shared, this.localWaiting);
  }
}
