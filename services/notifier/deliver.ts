// Delivering one notification, exactly once where it can be known and by a stated rule where it cannot:
// lease the id, look at earlier attempts, record this attempt, send, record the outcome.
import { LeaseLostError } from '../../lib/lease';
import type { Logger } from '../../lib/logger';
import { retryTransient } from '../../lib/retry';
import { RetryLaterError } from '../../lib/telegram-budget';
import { ambiguityRule } from './ambiguity';
import { certainlyNotDelivered, sendFailure, type NotificationLog } from './notification-log';
import type { Contact, NotificationRequest } from '../../lib/contracts';

export type DeliveryOutcome = 'sent' | 'duplicate' | 'ambiguous' | 'failed';

/**
 * A delivery the bot's budget puts off by at most this long is given back to its channel (the handler fails, the
 * message is retried and redelivered, nothing is recorded); a longer wait (a long 429 pause) is stored in
 * failed_notifications with the wait, for the retry job.
 */
export const MAX_REDELIVERY_WAIT_MS = 30_000;

export interface Addressee {
  chatId: string;
  userId: string | null;
  languageCode: string | null;
  /** Display names of the users the params refer to (fromUserId). */
  names: Map<string, string>;
}

/** The notification log's operations a delivery uses (NotificationLog on PostgreSQL). */
export type DeliveryStore = Pick<
  NotificationLog,
  'attemptOf' | 'recordAttempt' | 'recordSent' | 'recordAmbiguous' | 'recordFailure'
>;

/** An exclusive hold on a notification id (lib/lease.ts's Lease in Redis). */
export interface HeldLease {
  assertHeld(): void;
  release(): Promise<void>;
}

export interface DeliveryPorts {
  store: DeliveryStore;
  /** The id's lease; waits while another delivery holds it, throws if it stays held. */
  lease(id: string): Promise<HeldLease>;
  contacts(userIds: string[]): Promise<Contact[]>;
  /** The language of a chat that is not addressed through a user id (an admin's). */
  chatLanguage(chatId: string): Promise<string | null>;
  render(request: NotificationRequest, to: Addressee): string;
  /** A slot of the bot's rate budget for the chat (lib/telegram-budget.ts); RetryLaterError when none comes soon. */
  slot(chatId: string): Promise<void>;
  send(chatId: string, text: string): Promise<{ message_id: number }>;
  /**
   * Sends this process made but could not record (PostgreSQL was away); recorded when the id is delivered here
   * again. A redelivery to another replica sees only the 'sending' row and applies the template's rule.
   */
  unrecorded: UnrecordedSends;
  logger: Logger;
}

export async function deliverNotification(
  request: NotificationRequest,
  ports: DeliveryPorts,
): Promise<DeliveryOutcome> {
  const { store, logger } = ports;
  const context = { notification_id: request.id, template: request.template };
  // Lease first, then look: looking first lets a copy slip in between another's record and release.
  const lease = await ports.lease(request.id);
  try {
    const sentBefore = ports.unrecorded.take(request.id);
    if (sentBefore !== undefined) {
      try {
        await store.recordSent(request.id, sentBefore);
      } catch (error) {
        ports.unrecorded.remember(request.id, sentBefore);
        throw error;
      }
      return 'duplicate';
    }
    const prior = await store.attemptOf(request.id);
    if (prior?.status === 'sent' || prior?.status === 'ambiguous') return 'duplicate';
    if (prior?.status === 'sending') {
      if (ambiguityRule(request.template) === 'skip') {
        await store.recordAmbiguous(request.id);
        logger.warn(context, 'an earlier attempt has no recorded outcome; informational message not sent again');
        return 'ambiguous';
      }
      logger.warn(context, 'an earlier attempt has no recorded outcome; sending again');
    }

    const to = await addressee(request, ports);
    if (!to) {
      await store.recordFailure(request, { code: null, description: 'unknown user' });
      return 'failed';
    }
    const text = ports.render(request, to);
    // Before the attempt is recorded: a delivery put off here leaves no 'sending' row to be judged ambiguous.
    try {
      await ports.slot(to.chatId);
    } catch (error) {
      if (!(error instanceof RetryLaterError) || error.retryAfterMs <= MAX_REDELIVERY_WAIT_MS) throw error;
      await retryTransient(() => store.recordFailure(request, sendFailure(error)));
      logger.warn(
        { ...context, user_id: to.userId, wait_ms: error.retryAfterMs },
        'the bot is paused; stored for retry',
      );
      return 'failed';
    }
    if (!(await store.recordAttempt(request.id, to.userId, to.chatId, request.template))) return 'duplicate';
    // Checked right before the request leaves: a lease lost meanwhile may have passed to another delivery.
    lease.assertHeld();

    let message: { message_id: number };
    try {
      message = await ports.send(to.chatId, text);
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      const failure = sendFailure(error);
      if (!certainlyNotDelivered(error) && ambiguityRule(request.template) === 'skip') {
        await retryTransient(() => store.recordAmbiguous(request.id));
        logger.warn(
          { ...context, user_id: to.userId, error: failure.description },
          'no answer from Telegram; informational message not sent again',
        );
        return 'ambiguous';
      }
      await retryTransient(() => store.recordFailure(request, failure));
      logger.warn(
        { ...context, user_id: to.userId, code: failure.code, error: failure.description },
        'notification failed; stored for retry',
      );
      return 'failed';
    }
    try {
      await retryTransient(() => store.recordSent(request.id, message.message_id));
    } catch (error) {
      ports.unrecorded.remember(request.id, message.message_id);
      throw error;
    }
    logger.info({ ...context, user_id: to.userId }, 'notification sent');
    return 'sent';
  } finally {
    await lease.release();
  }
}

async function addressee(request: NotificationRequest, ports: DeliveryPorts): Promise<Addressee | undefined> {
  const fromUserId = 'fromUserId' in request.params ? request.params.fromUserId : undefined;
  const from = fromUserId !== undefined ? [fromUserId] : [];
  const userId = request.userId;
  const ids = userId !== undefined ? [userId, ...from] : from;
  const contacts = ids.length ? await retryTransient(() => ports.contacts(ids)) : [];
  const names = new Map(contacts.map((c) => [c.userId, c.firstName ?? '—']));
  const chatId = request.chatId;
  if (chatId !== undefined) {
    const languageCode = await retryTransient(() => ports.chatLanguage(chatId));
    return { chatId, userId: null, languageCode, names };
  }
  const recipient = contacts.find((c) => c.userId === userId);
  if (!recipient) return undefined;
  return { chatId: recipient.telegramId, userId: recipient.userId, languageCode: recipient.languageCode, names };
}

/** A bounded memory of sends not yet recorded: the oldest is forgotten first (its row stays 'sending'). */
export class UnrecordedSends {
  private readonly sends = new Map<string, number>();

  constructor(private readonly limit = 10_000) {}

  remember(id: string, messageId: number): void {
    this.sends.delete(id);
    this.sends.set(id, messageId);
    if (this.sends.size > this.limit) this.sends.delete(this.sends.keys().next().value!);
  }

  take(id: string): number | undefined {
    const messageId = this.sends.get(id);
    this.sends.delete(id);
    return messageId;
  }
}
