// Who can still be messaged. The notifier marks a user unreachable when Telegram refuses delivery for good; any
// later message from the user (the bot reports it as users.seen) clears the mark. Each change of the mark is
// announced on users.reachability-changed in the same transaction (users_outbox), so no listener misses one.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { implement, outboxMessage, UsersActions, UsersChannels, type ResultOf } from '../../lib/contracts';
import { inTransaction, type Database } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { enqueue } from '../../lib/outbox';
import { USERS_OUTBOX } from './bans';

interface Change {
  userId: string;
  telegramId: string;
  reachable: boolean;
  reason: string | null;
  at: Date;
}

const announce = (client: pg.PoolClient, change: Change) =>
  enqueue(client, USERS_OUTBOX, [
    outboxMessage(UsersChannels.reachabilityChanged, {
      id: `reachability-changed:${change.userId}:${randomUUID()}`,
      userId: change.userId,
      telegramId: change.telegramId,
      reachable: change.reachable,
      reason: change.reason,
      at: change.at.toISOString(),
    }),
  ]);

interface ChangedRow {
  id: string;
  telegram_id: string;
  at: Date;
}

/** Marks the user unreachable unless they already are; the change, if any, is announced. Unknown users: none. */
export async function markUnreachable(pool: pg.Pool, telegramId: string, reason: string): Promise<Change | undefined> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<ChangedRow>(
      `UPDATE users SET unreachable_at = now(), unreachable_reason = $2, updated_at = now()
       WHERE telegram_id = $1 AND unreachable_at IS NULL
       RETURNING id::text, telegram_id::text, unreachable_at AS at`,
      [telegramId, reason],
    );
    if (!rows[0]) return undefined;
    const change = { userId: rows[0].id, telegramId: rows[0].telegram_id, reachable: false, reason, at: rows[0].at };
    await announce(client, change);
    return change;
  });
}

/**
 * The user wrote: last_seen_at moves on. A reachable user (nearly everyone) costs one statement; an unreachable one
 * is cleared and announced in a transaction. Undefined unless the user was unreachable.
 */
export async function userSeen(pool: pg.Pool, telegramId: string): Promise<Change | undefined> {
  const plain = await pool.query(
    'UPDATE users SET last_seen_at = now() WHERE telegram_id = $1 AND unreachable_at IS NULL',
    [telegramId],
  );
  if (plain.rowCount) return undefined;
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<ChangedRow>(
      `UPDATE users SET last_seen_at = now(), unreachable_at = NULL, unreachable_reason = NULL, updated_at = now()
       WHERE telegram_id = $1 AND unreachable_at IS NOT NULL
       RETURNING id::text, telegram_id::text, last_seen_at AS at`,
      [telegramId],
    );
    // No row: an unknown user, or another replica cleared the mark (and moved last_seen_at) a moment ago.
    if (!rows[0]) return undefined;
    const change = {
      userId: rows[0].id,
      telegramId: rows[0].telegram_id,
      reachable: true,
      reason: null,
      at: rows[0].at,
    };
    await announce(client, change);
    return change;
  });
}

type Summary = ResultOf<typeof UsersActions.unreachableSummary>;

export async function unreachableSummary(pool: pg.Pool, limit: number): Promise<Summary> {
  // Admin-only and rare: a count over the users table is fine at the sizes this platform has.
  const [count, recent] = await Promise.all([
    pool.query<{ n: string }>('SELECT count(*)::text AS n FROM users WHERE unreachable_at IS NOT NULL'),
    pool.query<{
      id: string;
      telegram_id: string;
      username: string | null;
      first_name: string | null;
      unreachable_at: Date;
      unreachable_reason: string | null;
    }>(
      `SELECT id::text, telegram_id::text, username, first_name, unreachable_at, unreachable_reason FROM users
       WHERE unreachable_at IS NOT NULL ORDER BY unreachable_at DESC, id DESC LIMIT $1`,
      [limit],
    ),
  ]);
  return {
    count: Number(count.rows[0]!.n),
    recent: recent.rows.map((row) => ({
      userId: row.id,
      telegramId: row.telegram_id,
      username: row.username,
      firstName: row.first_name,
      unreachableAt: row.unreachable_at.toISOString(),
      reason: row.unreachable_reason,
    })),
  };
}

/** The users service's reachability actions; `kick` wakes the outbox relay after a change was committed. */
export function reachabilityActions(db: Pick<Database, 'pool'>, log: Logger, kick: () => void) {
  return {
    markUnreachable: implement(UsersActions.markUnreachable, async (ctx) => {
      const change = await markUnreachable(db.pool, ctx.params.telegramId, ctx.params.reason);
      if (change) {
        kick();
        log.info({ request_id: ctx.requestID, user_id: change.userId, reason: change.reason }, 'user unreachable');
      }
      return { marked: change !== undefined };
    }),

    seen: implement(UsersActions.seen, async (ctx) => {
      const change = await userSeen(db.pool, ctx.params.telegramId);
      if (change) {
        kick();
        log.info({ request_id: ctx.requestID, user_id: change.userId }, 'user reachable again');
      }
      return { reachableAgain: change !== undefined };
    }),

    unreachableSummary: implement(UsersActions.unreachableSummary, (ctx) =>
      unreachableSummary(db.pool, ctx.params.limit),
    ),
  };
}
