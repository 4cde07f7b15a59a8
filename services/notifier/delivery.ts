// Sending with a memory: a notification id that was sent is never sent again, and one that could not be
// sent is stored in failed_notifications for the retry job rather than dropped.
import type pg from 'pg';
import type { Redis } from '../../lib/redis';

export interface SendFailure {
  code: number | null;
  description: string;
  retryAfterSeconds?: number;
}

export function sendFailure(error: unknown): SendFailure {
  const e = error as {
    response?: { error_code?: number; description?: string; parameters?: { retry_after?: number } };
    message?: string;
  };
  return {
    code: e.response?.error_code ?? null,
    description: e.response?.description ?? e.message ?? String(error),
    retryAfterSeconds: e.response?.parameters?.retry_after,
  };
}

/** After this many failed sends a notification is marked abandoned (still kept, for admins). */
export const MAX_ATTEMPTS = 12;

export class NotificationLog {
  constructor(
    private readonly pool: pg.Pool,
    private readonly redis: Redis,
  ) {}

  async wasSent(id: string): Promise<boolean> {
    const { rowCount } = await this.pool.query('SELECT 1 FROM outgoing_messages WHERE notification_id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  /**
   * Keeps two concurrent deliveries of one id from both sending; expires so a crashed holder does not block it,
   * but only well after the longest a delivery takes (users retries, 429 waits, the send itself).
   */
  async claim(id: string): Promise<boolean> {
    return (await this.redis.set(`notify:claim:${id}`, '1', 'PX', 180_000, 'NX')) === 'OK';
  }

  async release(id: string): Promise<void> {
    await this.redis.del(`notify:claim:${id}`);
  }

  async recordSent(id: string, userId: string, chatId: string, template: string, messageId: number): Promise<void> {
    await this.pool.query(
      `WITH sent AS (
         INSERT INTO outgoing_messages (notification_id, user_id, chat_id, template, message_id) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (notification_id) DO NOTHING)
       UPDATE failed_notifications SET status = 'sent', updated_at = now() WHERE notification_id = $1`,
      [id, userId, chatId, template, messageId],
    );
  }

  /** Stores (or counts again) a failed send; the retry job backs off 1, 2, 4 … minutes, up to 6 hours. */
  async recordFailure(
    id: string,
    userId: string,
    template: string,
    params: object,
    failure: SendFailure,
  ): Promise<void> {
    const error = `${failure.code ?? 'network'}: ${failure.description}`.slice(0, 1000);
    const retryAfterMs = (failure.retryAfterSeconds ?? 0) * 1000;
    await this.pool.query(
      `INSERT INTO failed_notifications (notification_id, user_id, template, params, error, attempts, status, next_retry_at)
       VALUES ($1, $2, $3, $4::jsonb, $5, 1, 'pending', now() + GREATEST($6, 60000) * interval '1 millisecond')
       ON CONFLICT (notification_id) DO UPDATE SET
         error = EXCLUDED.error,
         attempts = failed_notifications.attempts + 1,
         status = CASE WHEN failed_notifications.attempts + 1 >= $7 THEN 'abandoned' ELSE 'pending' END,
         next_retry_at = now() + GREATEST($6, LEAST(60000 * power(2, failed_notifications.attempts), 21600000)) * interval '1 millisecond',
         updated_at = now()
       WHERE failed_notifications.status = 'pending'`,
      [id, userId, template, JSON.stringify(params), error, retryAfterMs, MAX_ATTEMPTS],
    );
  }

  async due(
    limit = 100,
  ): Promise<
    { notification_id: string; user_id: string; template: string; params: Record<string, string | number> }[]
  > {
    const { rows } = await this.pool.query(
      `SELECT notification_id, user_id, template, params FROM failed_notifications
       WHERE status = 'pending' AND next_retry_at <= now() ORDER BY next_retry_at LIMIT $1`,
      [limit],
    );
    return rows;
  }
}
