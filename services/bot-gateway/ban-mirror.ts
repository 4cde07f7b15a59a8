// The bot checks bans in Redis on every update (one GET); the users table stays the source of truth. The mirror
// follows users' ban announcements, reading the flag as it is now (so late or reordered messages cannot leave a
// stale state), and is rebuilt from users at start (Redis may have lost it: it keeps nothing on disk).
import type { ServiceBroker } from 'moleculer';
import { callAction, UsersActions } from '../../lib/contracts';
import type { Redis } from '../../lib/redis';
import type { GatewayKeys } from './redis-keys';

export async function mirrorBan(broker: ServiceBroker, redis: Redis, keys: GatewayKeys, userId: string): Promise<void> {
  const user = await callAction(broker, UsersActions.get, { userId }, { timeout: 5000, retries: 2 });
  if (!user) return;
  if (user.isBanned) await redis.set(keys.ban(user.telegramId), '1');
  else await redis.del(keys.ban(user.telegramId));
}

export async function rebuildBanMirror(broker: ServiceBroker, redis: Redis, keys: GatewayKeys): Promise<number> {
  const banned = await callAction(broker, UsersActions.bannedTelegramIds, {}, { timeout: 10_000, retries: 2 });
  if (banned.length > 0) {
    const pipeline = redis.pipeline();
    for (const telegramId of banned) pipeline.set(keys.ban(telegramId), '1');
    await pipeline.exec();
  }
  return banned.length;
}
