// The bot checks bans in Redis on every update (one EXISTS); the users table stays the source of truth. The mirror
// follows users' ban announcements, each applied only if its version is newer than the last one applied (messages
// may arrive out of order, and a rebuild may race a change), and is rebuilt from users at start (Redis may have
// lost it: it keeps nothing on disk).
import type { ServiceBroker } from 'moleculer';
import { callAction, UsersActions } from '../../lib/contracts';
import type { Redis } from '../../lib/redis';
import type { GatewayKeys } from './redis-keys';

// KEYS: the ban key, the version key; ARGV: version, '1' banned / '0' not.
const APPLY_IF_NEWER = `
local applied = tonumber(redis.call('get', KEYS[2]) or '0')
if tonumber(ARGV[1]) <= applied then return 0 end
redis.call('set', KEYS[2], ARGV[1])
if ARGV[2] == '1' then redis.call('set', KEYS[1], '1') else redis.call('del', KEYS[1]) end
return 1`;

export interface BanChange {
  telegramId: string;
  banned: boolean;
  version: number;
}

/** True when the change was newer than what the mirror holds and is now applied. */
export async function mirrorBan(redis: Redis, keys: GatewayKeys, change: BanChange): Promise<boolean> {
  const applied = await redis.eval(
    APPLY_IF_NEWER,
    2,
    keys.ban(change.telegramId),
    keys.banVersion(change.telegramId),
    String(change.version),
    change.banned ? '1' : '0',
  );
  return applied === 1;
}

export async function rebuildBanMirror(broker: ServiceBroker, redis: Redis, keys: GatewayKeys): Promise<number> {
  const banned = await callAction(broker, UsersActions.bannedTelegramIds, {}, { timeout: 10_000, retries: 2 });
  for (const { telegramId, version } of banned) await mirrorBan(redis, keys, { telegramId, banned: true, version });
  return banned.length;
}
