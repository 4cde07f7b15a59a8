// Each update_id is handled once across replicas and redeliveries: the first SET NX wins.
import type { MiddlewareFn } from 'telegraf';
import type { Logger } from '../../../lib/logger';
import type { Redis } from '../../../lib/redis';
import type { BotContext } from '../context';
import type { GatewayKeys } from '../redis-keys';

const CLAIM_TTL_SECONDS = 86_400;

/** True when this caller may handle the update. If Redis is down the update is handled (a duplicate beats a loss). */
export async function claimUpdate(redis: Redis, keys: GatewayKeys, updateId: number, log: Logger): Promise<boolean> {
  try {
    return (await redis.set(keys.update(updateId), '1', 'EX', CLAIM_TTL_SECONDS, 'NX')) === 'OK';
  } catch (error) {
    log.warn({ err: error, update_id: updateId }, 'could not claim the update in Redis; handling it anyway');
    return true;
  }
}

/** The claim as middleware, for long polling (in webhook mode the action claims before handing the update over). */
export function claimUpdates(redis: Redis, keys: GatewayKeys): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    if (!(await claimUpdate(redis, keys, ctx.update.update_id, ctx.gateway.log))) {
      ctx.gateway.log.debug('duplicate update dropped');
      return;
    }
    return next();
  };
}
