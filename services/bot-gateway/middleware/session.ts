// A small per-user dialog state in Redis (JSON with a TTL), e.g. "the next message is the wallet address".
import type { MiddlewareFn } from 'telegraf';
import type { Redis } from '../../../lib/redis';
import type { BotContext, Session } from '../context';
import type { GatewayKeys } from '../redis-keys';

export const SESSION_TTL_SECONDS = 15 * 60;

export function parseSession(raw: string | null): Session {
  if (!raw) return {};
  try {
    const value = JSON.parse(raw) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const awaiting = (value as Record<string, unknown>)['awaiting'];
      return awaiting === 'wallet' ? { awaiting } : {};
    }
  } catch {
    // a corrupt session is an empty one
  }
  return {};
}

export function sessions(redis: Redis, keys: GatewayKeys): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    if (!ctx.from) return next();
    const key = keys.session(ctx.from.id);
    let before: string | null;
    try {
      before = await redis.get(key);
    } catch (error) {
      // Without Redis the dialog has no memory, but commands still work.
      ctx.gateway.log.warn({ err: error }, 'session unavailable');
      ctx.gateway.session = {};
      return next();
    }
    ctx.gateway.session = parseSession(before);
    await next();
    const after = JSON.stringify(ctx.gateway.session);
    if (after === JSON.stringify(parseSession(before))) return;
    if (after === '{}') await redis.del(key);
    else await redis.set(key, after, 'EX', SESSION_TTL_SECONDS);
  };
}
