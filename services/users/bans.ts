// A ban flag changes in the users table and is announced in the same transaction (users_outbox), so the bot's
// Redis mirror of it can never miss a change.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { outboxMessage, UsersChannels } from '../../lib/contracts';
import { inTransaction } from '../../lib/db';
import { enqueue } from '../../lib/outbox';

export const USERS_OUTBOX = 'users_outbox';

/** Sets the flag and announces it; undefined for an unknown user. */
export async function changeBan(
  pool: pg.Pool,
  userId: string,
  banned: boolean,
): Promise<{ telegramId: string } | undefined> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ telegram_id: string; ban_version: number }>(
      `UPDATE users SET is_banned = $2, ban_version = ban_version + 1, updated_at = now() WHERE id = $1
       RETURNING telegram_id, ban_version`,
      [userId, banned],
    );
    if (!rows[0]) return undefined;
    const telegramId = String(rows[0].telegram_id);
    await enqueue(client, USERS_OUTBOX, [
      outboxMessage(UsersChannels.banChanged, {
        id: `ban-changed:${userId}:${randomUUID()}`,
        userId,
        telegramId,
        banned,
        version: rows[0].ban_version,
      }),
    ]);
    return { telegramId };
  });
}
