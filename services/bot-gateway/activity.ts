// A user's activity reaches users (users.seen: last_seen_at, and an unreachable mark cleared) without a call per
// update. `seen:<telegramId>` lives THROTTLE_MS after a report; while it lives, updates are not reported, but the
// time of the latest one is kept in it (its life not extended). When users announce that a user became unreachable,
// bot-gateway takes the key away, so the user's next update is reported whatever the throttle says; an update that
// came after the mark but before its announcement is found in the key and reported then.
import type { Redis } from '../../lib/redis';
import type { GatewayKeys } from './redis-keys';

/** Between two reports of one user's activity: last_seen_at is kept within this. */
export const THROTTLE_MS = 5 * 60_000;
/** The bot's and the database's clocks may differ by this much; an update that close to a mark counts as after it. */
export const CLOCK_SKEW_MS = 2_000;

// KEYS: the seen key; ARGV: now (ms), the throttle (ms). 1: report now; 0: reported lately, this update's time kept.
const NOTE_ACTIVITY = `
if redis.call('set', KEYS[1], '0', 'PX', ARGV[2], 'NX') then return 1 end
redis.call('set', KEYS[1], ARGV[1], 'KEEPTTL')
return 0`;

/** True when this update's activity should be reported now. */
export async function noteActivity(
  redis: Redis,
  keys: GatewayKeys,
  telegramId: string,
  nowMs = Date.now(),
  throttleMs = THROTTLE_MS,
): Promise<boolean> {
  return (await redis.eval(NOTE_ACTIVITY, 1, keys.seen(telegramId), String(nowMs), String(throttleMs))) === 1;
}

/** After a report that failed: the next update reports again. */
export async function forgetReport(redis: Redis, keys: GatewayKeys, telegramId: string): Promise<void> {
  await redis.del(keys.seen(telegramId));
}

/**
 * The user was marked unreachable at `markedAt`: drops the throttle (the next update reports) and says whether an
 * unreported update came after the mark. `report` runs then; if it fails, the key is put back for a redelivery.
 */
export async function afterUnreachableMark(
  redis: Redis,
  keys: GatewayKeys,
  telegramId: string,
  markedAt: Date,
  report: () => Promise<unknown>,
): Promise<boolean> {
  const key = keys.seen(telegramId);
  const kept = await redis.getdel(key);
  if (kept === null || Number(kept) < markedAt.getTime() - CLOCK_SKEW_MS) return false;
  try {
    await report();
  } catch (error) {
    await redis.set(key, kept, 'PX', THROTTLE_MS, 'NX');
    throw error;
  }
  return true;
}
