// notifier's memory in PostgreSQL: an attempt is written before each send and completed after it, so a
// notification id that was sent is never sent again, one whose outcome a crash erased is known to be ambiguous,
// and one that could not be sent waits in failed_notifications for the retry job rather than being dropped.
import type pg from 'pg';
import { isTemplateRequest, NotifierChannels, parsePayload, type NotificationRequest } from '../../lib/contracts';
import { RetryLaterError } from '../../lib/telegram-budget';
import { requestNeverLeft, telegramError } from '../../lib/telegram-send';
import { MediaRefusedError } from './media';

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

/**
 * Whether Telegram certainly did not deliver: it answered with an error, or the request never left. A timeout or a
 * connection reset after the request was written leaves the outcome unknown.
 */
export function certainlyNotDelivered(error: unknown): boolean {
  if (error instanceof RetryLaterError) return true; // the request was never made
  return telegramError(error) !== undefined || requestNeverLeft(error);
}

/**
 * What a refusal means for the notification: `unreachable` (403: blocked, deactivated, never started; 400 chat not
 * found): the user is marked unreachable and it is never retried; `rejected` (any other 400, a stored medium that
 * cannot be sent as asked): the message itself is wrong, never retried; `transient` (network, 5xx, 429, anything
 * else): stored for the retry job.
 */
export type FailureClass = 'unreachable' | 'rejected' | 'transient';

export function failureClass(error: unknown): FailureClass {
  if (error instanceof MediaRefusedError) return 'rejected';
  const answer = telegramError(error);
  if (answer?.code === 403) return 'unreachable';
  if (answer?.code === 400)
    return /chat not found|user not found|peer_id_invalid/i.test(answer.description) ? 'unreachable' : 'rejected';
  return 'transient';
}

/** After this many failed sends a notification is marked abandoned (still kept, for admins, who get an alert). */
export const MAX_ATTEMPTS = 12;

export type AttemptStatus = 'sending' | 'sent' | 'ambiguous';
/** A failed_notifications row's status. */
export type FailureStatus = 'pending' | 'sent' | 'ambiguous' | 'failed' | 'abandoned';

export interface PriorAttempt {
  /** The outgoing_messages row's status; null when there is none. */
  status: AttemptStatus | null;
  attempts: number;
  /** Message ids of the parts already sent, in order. */
  messageIds: number[];
  /** The part whose request may have left; its outcome is unknown when it is not among messageIds. */
  attemptedPart: number | null;
  /** The failed_notifications row's status, if the id failed before. */
  failure: FailureStatus | null;
}

export interface AbandonedNotification {
  notificationId: string;
  userId: string | null;
  chatId: string | null;
  attempts: number;
  error: string;
  template: string | null;
}

/** A stored request's row: a template's params or a content request's content. */
interface StoredRequest {
  notification_id: string;
  user_id: string | null;
  chat_id: string | null;
  template: string | null;
  params: Record<string, string | number>;
  content: unknown;
  ambiguity: string | null;
}

const KEEP_PROGRESS = `forgotten AS (
         DELETE FROM outgoing_messages WHERE notification_id = $1 AND status = 'sending' AND message_ids = '[]'::jsonb),
       settled AS (
         UPDATE outgoing_messages SET attempted_part = NULL
         WHERE notification_id = $1 AND status = 'sending' AND message_ids <> '[]'::jsonb)`;

export class NotificationLog {
  constructor(private readonly pool: pg.Pool) {}

  /** What is known of earlier attempts of this id, if any. */
  async attemptOf(id: string): Promise<PriorAttempt | undefined> {
    const { rows } = await this.pool.query<{
      status: AttemptStatus | null;
      attempts: number | null;
      message_ids: string[] | null;
      attempted_part: number | null;
      failure: FailureStatus | null;
    }>(
      `SELECT o.status, o.attempts, o.message_ids, o.attempted_part, f.status AS failure
       FROM (SELECT $1::text AS id) wanted
       LEFT JOIN outgoing_messages o ON o.notification_id = wanted.id
       LEFT JOIN failed_notifications f ON f.notification_id = wanted.id`,
      [id],
    );
    const row = rows[0];
    if (!row || (row.status === null && row.failure === null)) return undefined;
    return {
      status: row.status,
      attempts: row.attempts ?? 0,
      messageIds: (row.message_ids ?? []).map(Number),
      attemptedPart: row.attempted_part,
      failure: row.failure,
    };
  }

  /**
   * Committed before the first request of this delivery leaves for Telegram (`part` is that request's index): from
   * here on a crash leaves a visible 'sending' row. False when another delivery finished the id meanwhile (its row
   * is no longer 'sending').
   */
  async recordAttempt(
    id: string,
    userId: string | null,
    chatId: string,
    template: string | null,
    part: number,
  ): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `INSERT INTO outgoing_messages (notification_id, user_id, chat_id, template, status, attempts, attempted_at, attempted_part)
       VALUES ($1, $2, $3, $4, 'sending', 1, now(), $5)
       ON CONFLICT (notification_id) DO UPDATE SET status = 'sending', attempts = outgoing_messages.attempts + 1,
         attempted_at = now(), chat_id = EXCLUDED.chat_id, attempted_part = EXCLUDED.attempted_part
       WHERE outgoing_messages.status = 'sending'`,
      [id, userId, chatId, template, part],
    );
    return (rowCount ?? 0) > 0;
  }

  /** The next part's request is about to leave (a long text's second part and on). */
  async recordPartAttempt(id: string, part: number): Promise<void> {
    await this.pool.query(
      `UPDATE outgoing_messages SET attempted_part = $2 WHERE notification_id = $1 AND status = 'sending'`,
      [id, part],
    );
  }

  /** Parts sent so far (all their message ids, in order): a later attempt starts after them. */
  async recordProgress(id: string, messageIds: number[]): Promise<void> {
    await this.pool.query(
      `UPDATE outgoing_messages SET message_ids = $2::jsonb WHERE notification_id = $1 AND status = 'sending'`,
      [id, JSON.stringify(messageIds.map(String))],
    );
  }

  async recordSent(id: string, messageIds: number[]): Promise<void> {
    await this.pool.query(
      `WITH sent AS (
         UPDATE outgoing_messages SET status = 'sent', message_id = $2, message_ids = $3::jsonb, attempted_part = NULL,
           sent_at = now()
         WHERE notification_id = $1)
       UPDATE failed_notifications SET status = 'sent', updated_at = now() WHERE notification_id = $1`,
      [id, messageIds[0] ?? null, JSON.stringify(messageIds.map(String))],
    );
  }

  /** Nothing is on its way after all (the bot's budget put the delivery off): the attempt's outcome is known. */
  async releaseAttempt(id: string): Promise<void> {
    await this.pool.query(`WITH ${KEEP_PROGRESS} SELECT 1`, [id]);
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
   * Telegram answered that it did not deliver: the attempt's outcome is known (its row is forgotten, or keeps the
   * parts already sent) and the failure is stored. A transient one is counted again and retried after 1, 2, 4 …
   * minutes, up to 6 hours, and abandoned after MAX_ATTEMPTS; a permanent one is 'failed', never retried. Answers
   * the row's new status (undefined when it had settled before).
   */
  async recordFailure(
    request: NotificationRequest,
    failure: SendFailure,
    permanent = false,
  ): Promise<FailureStatus | undefined> {
    const error = `${failure.code ?? 'network'}: ${failure.description}`.slice(0, 1000);
    const retryAfterMs = (failure.retryAfterSeconds ?? 0) * 1000;
    const template = isTemplateRequest(request);
    const { rows } = await this.pool.query<{ status: FailureStatus }>(
      `WITH ${KEEP_PROGRESS}
       INSERT INTO failed_notifications
         (notification_id, user_id, chat_id, template, params, content, ambiguity, error, attempts, status, next_retry_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, 1,
         CASE WHEN $11 THEN 'failed' ELSE 'pending' END,
         CASE WHEN $11 THEN NULL ELSE now() + GREATEST($9, 60000) * interval '1 millisecond' END)
       ON CONFLICT (notification_id) DO UPDATE SET
         error = EXCLUDED.error,
         attempts = failed_notifications.attempts + 1,
         status = CASE WHEN $11 THEN 'failed'
                       WHEN failed_notifications.attempts + 1 >= $10 THEN 'abandoned' ELSE 'pending' END,
         next_retry_at = CASE WHEN $11 THEN NULL
           ELSE now() + GREATEST($9, LEAST(60000 * power(2, failed_notifications.attempts), 21600000)) * interval '1 millisecond' END,
         updated_at = now()
       WHERE failed_notifications.status = 'pending'
       RETURNING status`,
      [
        request.id,
        request.userId ?? null,
        request.chatId ?? null,
        template ? request.template : null,
        JSON.stringify(template ? request.params : {}),
        template ? null : JSON.stringify(request.content),
        template ? null : request.ambiguity,
        error,
        retryAfterMs,
        MAX_ATTEMPTS,
        permanent,
      ],
    );
    return rows[0]?.status;
  }

  /** Abandoned notifications whose admin alert is not raised yet. */
  async unalertedAbandoned(limit = 100): Promise<AbandonedNotification[]> {
    const { rows } = await this.pool.query<{
      notification_id: string;
      user_id: string | null;
      chat_id: string | null;
      attempts: number;
      error: string;
      template: string | null;
    }>(
      `SELECT notification_id, user_id::text, chat_id::text, attempts, error, template FROM failed_notifications
       WHERE status = 'abandoned' AND alerted_at IS NULL ORDER BY id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => ({
      notificationId: r.notification_id,
      userId: r.user_id,
      chatId: r.chat_id,
      attempts: r.attempts,
      error: r.error,
      template: r.template,
    }));
  }

  async markAlerted(notificationId: string): Promise<void> {
    await this.pool.query(`UPDATE failed_notifications SET alerted_at = now() WHERE notification_id = $1`, [
      notificationId,
    ]);
  }

  async due(limit = 100): Promise<NotificationRequest[]> {
    const { rows } = await this.pool.query<StoredRequest>(
      `SELECT notification_id, user_id, chat_id, template, params, content, ambiguity FROM failed_notifications
       WHERE status = 'pending' AND next_retry_at <= now() ORDER BY next_retry_at LIMIT $1`,
      [limit],
    );
    // Stored as they were requested, parsed again: a row no contract accepts any more is abandoned, visibly (its
    // admin alert follows), and never blocks the others.
    const due: NotificationRequest[] = [];
    for (const row of rows) {
      const recipient = row.user_id !== null ? { userId: String(row.user_id) } : { chatId: String(row.chat_id) };
      const what =
        row.template !== null
          ? { template: row.template, params: row.params }
          : { content: row.content, ambiguity: row.ambiguity ?? undefined };
      try {
        due.push(
          parsePayload(NotifierChannels.notificationRequested, { id: row.notification_id, ...recipient, ...what }),
        );
      } catch (error) {
        await this.pool.query(
          `UPDATE failed_notifications SET status = 'abandoned', error = $2, updated_at = now() WHERE notification_id = $1`,
          [row.notification_id, `no longer fits its contract: ${(error as Error).message}`.slice(0, 1000)],
        );
      }
    }
    return due;
  }
}
