// Per-user fixed-window rate limit in Redis (INCR + PEXPIRE in one MULTI): the first update over the limit gets
// one polite answer, the rest of that window is dropped without a word.
import type { MiddlewareFn } from 'telegraf';
import { t } from '../../../lib/i18n';
import type { Redis } from '../../../lib/redis';
import type { BotContext } from '../context';
import type { GatewayKeys } from '../redis-keys';

export type RateDecision = 'allow' | 'warn' | 'drop';

/** `count` is this update's position in the window (1 = first). */
export function rateDecision(count: number, maxRequests: number): RateDecision {
  if (count <= maxRequests) return 'allow';
  return count === maxRequests + 1 ? 'warn' : 'drop';
}

export function windowOf(nowMs: number, windowMs: number): number {
  return Math.floor(nowMs / windowMs);
}

export interface RateLimitOptions {
  windowMs: number;
  maxRequests: number;
  now?: () => number;
}

export async function countUpdate(
  redis: Redis,
  keys: GatewayKeys,
  telegramId: number,
  options: RateLimitOptions,
): Promise<number> {
  const now = (options.now ?? Date.now)();
  const key = keys.rate(telegramId, windowOf(now, options.windowMs));
  const replies = await redis.multi().incr(key).pexpire(key, options.windowMs).exec();
  const [error, count] = replies?.[0] ?? [new Error('rate-limit transaction was discarded'), 0];
  if (error) throw error;
  return Number(count);
}

/**
 * An album arrives as one update per item (at most 10, media_group_id set by Telegram): it is one message to the
 * user, so only its first item counts.
 */
async function laterAlbumItem(redis: Redis, keys: GatewayKeys, ctx: BotContext, windowMs: number): Promise<boolean> {
  const group = ctx.message && 'media_group_id' in ctx.message ? ctx.message.media_group_id : undefined;
  if (group === undefined) return false;
  return (await redis.set(keys.rateAlbum(ctx.from!.id, group), '1', 'PX', windowMs, 'NX')) !== 'OK';
}

export function rateLimit(redis: Redis, keys: GatewayKeys, options: RateLimitOptions): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    if (!ctx.from) return next();
    let decision: RateDecision = 'allow';
    try {
      if (!(await laterAlbumItem(redis, keys, ctx, options.windowMs)))
        decision = rateDecision(await countUpdate(redis, keys, ctx.from.id, options), options.maxRequests);
    } catch (error) {
      ctx.gateway.log.warn({ err: error }, 'rate limit check failed; letting the update through');
    }
    if (decision === 'allow') return next();
    ctx.gateway.log.info({ decision }, 'rate limit exceeded');
    if (decision === 'warn') {
      const text = t(ctx.gateway.lang, 'common.rate_limited');
      if (ctx.callbackQuery) await ctx.answerCbQuery(text);
      else if (ctx.chat) await ctx.reply(text);
    }
  };
}
