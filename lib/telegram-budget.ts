// One Telegram rate budget per bot, shared by every replica of every sender (notifier now, broadcaster later):
// about 30 messages/s for the bot and 1/s per chat (https://core.telegram.org/bots/faq), and one shared "paused
// until" that a 429 sets for its retry_after. Counting is rate-limiter-flexible's RateLimiterRedis (an atomic
// INCR + expiry in Redis) with a RateLimiterMemory insurance limiter that takes over while Redis is down.
//
// The library's windows are whole seconds. A fixed window of 30/s lets 60 messages through around a window's edge,
// which Telegram (a token bucket of 30) answers with 429s, so the budget counts short slots instead: the key
// carries the slot number, and each slot holds ceil(rate / 3) messages (10 per 333 ms at 30/s), so at most twice
// that can pass around an edge, well inside Telegram's burst.
//
// Priority: transactional messages (everything the notifier sends) may fill every slot; broadcast traffic may take
// a slot only while it holds fewer than `points - reserve` messages (reserve: one message per slot by default, so
// broadcasts get 27/s of 30), so a broadcast at full speed always leaves a transactional message room in the
// current slot. A refused message is not counted (a conditional increment), so refusals never eat the reserve.
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Redis } from './redis';

export type SendPriority = 'transactional' | 'broadcast';

export interface TelegramBudgetOptions {
  /** Keys are `<namespace>:tg-budget:<botId>:…`. */
  namespace: string;
  /** The bot's numeric id (the part of its token before the colon). */
  botId: string;
  /** Messages per second for the bot across every replica (Telegram: 30). */
  globalRate?: number;
  /** Messages per second to one chat (Telegram: 1). */
  perChatRate?: number;
  /** Messages per global slot that broadcast traffic leaves to transactional messages. */
  broadcastReserve?: number;
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

interface Slots {
  slotMs: number;
  points: number;
  /** By priority; both count in the same keys, the broadcast one up to a lower ceiling. */
  limiters: Record<SendPriority, RateLimiterRedis>;
}

function slots(redis: Redis, keyPrefix: string, rate: number, reserve: number): Slots {
  const points = Math.max(1, Math.ceil(rate / 3));
  const slotMs = Math.ceil((1000 * points) / rate);
  // Keys outlive their slot by a second at least; the slot number in the key, not the expiry, makes the window.
  const duration = Math.ceil(slotMs / 1000) + 1;
  // While Redis is down each process counts for itself, up to the whole budget (the reserve is not kept).
  const insuranceLimiter = new RateLimiterMemory({ keyPrefix, points, duration });
  const limiter = (ceiling: number) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix,
      points: ceiling,
      duration,
      customIncrTtlLuaScript: CONDITIONAL_INCR,
      rejectIfRedisNotReady: true,
      insuranceLimiter,
    });
  const broadcastCeiling = Math.max(1, points - Math.min(reserve, points - 1));
  return { slotMs, points, limiters: { transactional: limiter(points), broadcast: limiter(broadcastCeiling) } };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class TelegramBudget {
  private readonly global: Slots;
  private readonly chat: Slots;
  private readonly maxWaitMs: number;
  private readonly pauseKey: string;
  /** This process's own copy of the pause: honoured while Redis cannot be asked. */
  private localPausedUntil = 0;

  constructor(
    private readonly redis: Redis,
    options: TelegramBudgetOptions,
  ) {
    const prefix = `${options.namespace}:tg-budget:${options.botId}`;
    this.global = slots(redis, `${prefix}:global`, options.globalRate ?? 30, options.broadcastReserve ?? 1);
    this.chat = slots(redis, `${prefix}:chat`, options.perChatRate ?? 1, 0);
    this.maxWaitMs = options.maxWaitMs ?? 5000;
    this.pauseKey = `${prefix}:paused-until`;
  }

  /**
   * Waits (at most maxWaitMs in all) for the shared pause to end, a slot for the chat and a slot in the bot's
   * budget; throws RetryLaterError when that would take longer.
   */
  async take(chatId: string, priority: SendPriority = 'transactional'): Promise<void> {
    const deadline = Date.now() + this.maxWaitMs;
    await this.waitPause(deadline);
    await this.takeSlot(this.chat.limiters.transactional, this.chat.slotMs, chatId, deadline);
    await this.takeSlot(this.global.limiters[priority], this.global.slotMs, 'all', deadline);
    // A 429 may have paused the bot while this take waited for its slots.
    await this.waitPause(deadline);
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

  private async takeSlot(limiter: RateLimiterRedis, slotMs: number, key: string, deadline: number): Promise<void> {
    for (;;) {
      const slot = Math.floor(Date.now() / slotMs);
      try {
        await limiter.consume(`${key}:${slot}`);
        return;
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
      }
      const nextSlotAt = (slot + 1) * slotMs;
      if (nextSlotAt > deadline) throw new RetryLaterError(Math.max(1, nextSlotAt - Date.now()));
      await sleep(Math.max(1, nextSlotAt - Date.now()));
    }
  }
}
