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
    const { rows } = await client.query<{ telegram_id: string }>(
      'UPDATE users SET is_banned = $2, updated_at = now() WHERE id = $1 RETURNING telegram_id',
      [userId, banned],
    );
    const telegramId = rows[0] ? String(rows[0].telegram_id) : undefined;
    if (telegramId === undefined) return undefined;
    await enqueue(client, USERS_OUTBOX, [
      outboxMessage(UsersChannels.banChanged, { id: `ban-changed:${userId}:${randomUUID()}`, userId, telegramId }),
    ]);
    return { telegramId };
  });
}
