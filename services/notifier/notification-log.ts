// notifier's memory in PostgreSQL: an attempt is written before each send and completed after it, so a
// notification id that was sent is never sent again, one whose outcome a crash erased is known to be ambiguous,
// and one that could not be sent waits in failed_notifications for the retry job rather than being dropped.
import type pg from 'pg';
import { NotifierChannels, parsePayload, type NotificationRequest } from '../../lib/contracts';
import { RetryLaterError } from '../../lib/telegram-budget';

export interface SendFailure {
  code: number | null;
  description: string;
  retryAfterSeconds?: number;
}

export function sendFailure(error: unknown): SendFailure {
  // The bot is paused (a 429) or out of budget for longer than a handler may wait: stored with the wait.
  if (error instanceof RetryLaterError) {
    return { code: 429, description: error.message, retryAfterSeconds: Math.ceil(error.retryAfterMs / 1000) };
  }
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

/** Errors raised before a request can have reached Telegram: nothing was delivered. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Whether Telegram certainly did not deliver: it answered with an error, or the request never left. A timeout or a
 * connection reset after the request was written leaves the outcome unknown.
 */
export function certainlyNotDelivered(error: unknown): boolean {
  if (error instanceof RetryLaterError) return true; // the request was never made
  const e = error as { response?: { error_code?: number }; code?: string; errno?: string; cause?: { code?: string } };
  if (typeof e?.response?.error_code === 'number') return true;
  const code = e?.code ?? e?.errno ?? e?.cause?.code;
  return typeof code === 'string' && NEVER_SENT.has(code);
}

/** After this many failed sends a notification is marked abandoned (still kept, for admins). */
export const MAX_ATTEMPTS = 12;

export type AttemptStatus = 'sending' | 'sent' | 'ambiguous';

export class NotificationLog {
  constructor(private readonly pool: pg.Pool) {}

  /** What is known of earlier attempts of this id, if any. */
  async attemptOf(id: string): Promise<{ status: AttemptStatus; attempts: number } | undefined> {
    const { rows } = await this.pool.query<{ status: AttemptStatus; attempts: number }>(
      'SELECT status, attempts FROM outgoing_messages WHERE notification_id = $1',
      [id],
    );
    return rows[0];
  }

  /**
   * Committed before the request leaves for Telegram: from here on a crash leaves a visible 'sending' row. False
   * when another delivery finished the id meanwhile (its row is no longer 'sending').
   */
  async recordAttempt(id: string, userId: string | null, chatId: string, template: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO outgoing_messages (notification_id, user_id, chat_id, template, status, attempts, attempted_at)
       VALUES ($1, $2, $3, $4, 'sending', 1, now())
       ON CONFLICT (notification_id) DO UPDATE SET status = 'sending', attempts = outgoing_messages.attempts + 1,
         attempted_at = now(), chat_id = EXCLUDED.chat_id
       WHERE outgoing_messages.status = 'sending'`,
      [id, userId, chatId, template],
    );
    return (rowCount ?? 0) > 0;
  }

  async recordSent(id: string, messageId: number): Promise<void> {
    await this.pool.query(
      `WITH sent AS (
         UPDATE outgoing_messages SET status = 'sent', message_id = $2, sent_at = now() WHERE notification_id = $1)
       UPDATE failed_notifications SET status = 'sent', updated_at = now() WHERE notification_id = $1`,
      [id, messageId],
    );
  }

  /** An attempt nobody knows the outcome of, under a rule that says not to send again: kept, never retried. */
  async recordAmbiguous(id: string): Promise<void> {
    await this.pool.query(
      `WITH marked AS (
         UPDATE outgoing_messages SET status = 'ambiguous' WHERE notification_id = $1 AND status = 'sending')
       UPDATE failed_notifications SET status = 'ambiguous', updated_at = now() WHERE notification_id = $1 AND status = 'pending'`,
      [id],
    );
  }

  /**
   * Telegram answered that it did not deliver: the attempt is forgotten (its outcome is known) and the failure
   * stored, or counted again; the retry job backs off 1, 2, 4 … minutes, up to 6 hours.
   */
  async recordFailure(request: NotificationRequest, failure: SendFailure): Promise<void> {
    const error = `${failure.code ?? 'network'}: ${failure.description}`.slice(0, 1000);
    const retryAfterMs = (failure.retryAfterSeconds ?? 0) * 1000;
    await this.pool.query(
      `WITH forgotten AS (DELETE FROM outgoing_messages WHERE notification_id = $1 AND status = 'sending')
       INSERT INTO failed_notifications (notification_id, user_id, chat_id, template, params, error, attempts, status, next_retry_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, 1, 'pending', now() + GREATEST($7, 60000) * interval '1 millisecond')
       ON CONFLICT (notification_id) DO UPDATE SET
         error = EXCLUDED.error,
         attempts = failed_notifications.attempts + 1,
         status = CASE WHEN failed_notifications.attempts + 1 >= $8 THEN 'abandoned' ELSE 'pending' END,
         next_retry_at = now() + GREATEST($7, LEAST(60000 * power(2, failed_notifications.attempts), 21600000)) * interval '1 millisecond',
         updated_at = now()
       WHERE failed_notifications.status = 'pending'`,
      [
        request.id,
        request.userId ?? null,
        request.chatId ?? null,
        request.template,
        JSON.stringify(request.params),
        error,
        retryAfterMs,
        MAX_ATTEMPTS,
      ],
    );
  }

  async due(limit = 100): Promise<NotificationRequest[]> {
    const { rows } = await this.pool.query<{
      notification_id: string;
      user_id: string | null;
      chat_id: string | null;
      template: string;
      params: Record<string, string | number>;
    }>(
      `SELECT notification_id, user_id, chat_id, template, params FROM failed_notifications
       WHERE status = 'pending' AND next_retry_at <= now() ORDER BY next_retry_at LIMIT $1`,
      [limit],
    );
    // Stored as they were requested, parsed again: a row no template accepts any more is abandoned, visibly, and
    // never blocks the others.
    const due: NotificationRequest[] = [];
    for (const row of rows) {
      try {
        due.push(
          parsePayload(NotifierChannels.notificationRequested, {
            id: row.notification_id,
            template: row.template,
            params: row.params,
            ...(row.user_id !== null ? { userId: String(row.user_id) } : { chatId: String(row.chat_id) }),
          }),
        );
      } catch (error) {
        await this.pool.query(
          `UPDATE failed_notifications SET status = 'abandoned', error = $2, updated_at = now() WHERE notification_id = $1`,
          [row.notification_id, `no longer fits its template: ${(error as Error).message}`.slice(0, 1000)],
        );
      }
    }
    return due;
  }
}
