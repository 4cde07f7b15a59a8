// Delivering one notification, exactly once where it can be known and by a stated rule where it cannot:
// lease the id, look at earlier attempts, record this attempt, send (part by part), record the outcome.
import { failpoint } from '../../lib/failpoints';
import { LeaseLostError } from '../../lib/lease';
import type { Logger } from '../../lib/logger';
import { retryTransient } from '../../lib/retry';
import { RetryLaterError } from '../../lib/telegram-budget';
import { requestsOf, type SentContent } from '../../lib/telegram-send';
import { ambiguityRule } from './ambiguity';
import { certainlyNotDelivered, failureClass, sendFailure, type NotificationLog } from './notification-log';
import {
  isTemplateRequest,
  type Contact,
  type DeliveryOutcome,
  type MessageContent,
  type NotificationRequest,
  type TemplateNotificationRequest,
} from '../../lib/contracts';

export type { DeliveryOutcome } from '../../lib/contracts';

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
  | 'attemptOf'
  | 'recordAttempt'
  | 'recordPartAttempt'
  | 'recordProgress'
  | 'recordSent'
  | 'recordAmbiguous'
  | 'releaseAttempt'
  | 'recordFailure'
>;

/** An exclusive hold on a notification id (lib/lease.ts's Lease in Redis). */
export interface HeldLease {
  assertHeld(): void;
  release(): Promise<void>;
}

/** How a delivery follows one send's requests (lib/telegram-send.ts's hooks). */
export interface SendProgress {
  /** The first request to make: those before it were sent by an earlier attempt. */
  startAt: number;
  /** After the budget's slot, right before request `index` leaves. */
  attempting(index: number): Promise<void>;
  /** Request `index` was answered with these messages. */
  answered(index: number, messageIds: number[]): Promise<void>;
}

export interface DeliveryPorts {
  store: DeliveryStore;
  /** The id's lease; waits while another delivery holds it, throws if it stays held. */
  lease(id: string): Promise<HeldLease>;
  contacts(userIds: string[]): Promise<Contact[]>;
  /** The language of a chat that is not addressed through a user id (an admin's). */
  chatLanguage(chatId: string): Promise<string | null>;
  render(request: TemplateNotificationRequest, to: Addressee): string;
  /**
   * Sends the content (lib/telegram-send.ts's sendContent: a slot of the bot's budget before each request, stored
   * media uploaded once); RetryLaterError when the budget has no slot soon.
   */
  send(chatId: string, content: MessageContent, progress: SendProgress): Promise<SentContent>;
  /** users.markUnreachable: Telegram refused this chat for good. */
  markUnreachable(telegramId: string, reason: string): Promise<void>;
  /**
   * Sends this process made but could not record (PostgreSQL was away); recorded when the id is delivered here
   * again. A redelivery to another replica sees only the 'sending' row and applies the ambiguity rule.
   */
  unrecorded: UnrecordedSends;
  logger: Logger;
}

/** One of the delivery's own steps failed inside the send (not Telegram): thrown on as it is. */
class StepFailed extends Error {
  constructor(readonly reason: unknown) {
    super('a delivery step failed');
  }
}
/** Another delivery finished the id between our look and our attempt. */
class AlreadySettled extends Error {}

export async function deliverNotification(
  request: NotificationRequest,
  ports: DeliveryPorts,
): Promise<DeliveryOutcome> {
  const { store, logger } = ports;
  const template = isTemplateRequest(request) ? request.template : null;
  const rule = ambiguityRule(request);
  const context = { notification_id: request.id, template: template ?? `content:${contentKind(request)}` };
  // Lease first, then look: looking first lets a copy slip in between another's record and release.
  const lease = await ports.lease(request.id);
  try {
    const remembered = ports.unrecorded.take(request.id);
    if (remembered !== undefined) {
      try {
        if (remembered.complete) {
          await store.recordSent(request.id, remembered.messageIds);
          return 'duplicate';
        }
        await store.recordProgress(request.id, remembered.messageIds);
      } catch (error) {
        ports.unrecorded.remember(request.id, remembered.messageIds, remembered.complete);
        throw error;
      }
    }
    const prior = await store.attemptOf(request.id);
    // Refused for good, or given up: a copy of the request changes nothing.
    if (prior?.failure === 'failed' || prior?.failure === 'abandoned') return 'undeliverable';
    if (prior?.status === 'sent' || prior?.status === 'ambiguous') return 'duplicate';
    const done = prior?.status === 'sending' ? prior.messageIds : [];
    if (prior?.status === 'sending') {
      const inDoubt = prior.attemptedPart !== null && prior.attemptedPart >= done.length;
      if (inDoubt && rule === 'skip') {
        await store.recordAmbiguous(request.id);
        logger.warn(
          { ...context, part: prior.attemptedPart },
          'an earlier attempt has no recorded outcome; not sent again (ambiguity rule: skip)',
        );
        return 'ambiguous';
      }
      if (inDoubt)
        logger.warn(
          { ...context, part: prior.attemptedPart },
          'an earlier attempt has no recorded outcome; sending again',
        );
      else if (done.length) logger.info({ ...context, parts_sent: done.length }, 'resuming after the parts sent');
    }

    const to = await addressee(request, ports);
    if (!to) {
      await store.recordFailure(request, { code: null, description: 'unknown user' });
      return 'failed';
    }
    const content: MessageContent = isTemplateRequest(request)
      ? { kind: 'text', text: ports.render(request, to) }
      : request.content;
    const total = requestsOf(content);
    const messageIds = [...done];
    if (messageIds.length >= total) {
      await retryTransient(() => store.recordSent(request.id, messageIds));
      return 'duplicate';
    }

    let recorded = false;
    let inFlight = false;
    const step = async (work: () => Promise<void>) => {
      try {
        await work();
      } catch (error) {
        throw new StepFailed(error);
      }
    };
    try {
      await ports.send(to.chatId, content, {
        startAt: messageIds.length,
        attempting: (part) =>
          step(async () => {
            // Before the first request: a delivery the budget put off leaves no 'sending' row to be judged.
            if (!recorded) {
              if (!(await store.recordAttempt(request.id, to.userId, to.chatId, template, part)))
                throw new AlreadySettled();
              recorded = true;
            } else await retryTransient(() => store.recordPartAttempt(request.id, part));
            // Checked right before the request leaves: a lease lost meanwhile may have passed to another delivery.
            lease.assertHeld();
            inFlight = true;
          }),
        answered: (part, ids) =>
          step(async () => {
            inFlight = false;
            messageIds.push(...ids);
            if (part === total - 1) return; // recordSent below
            try {
              await retryTransient(() => store.recordProgress(request.id, messageIds));
            } catch (error) {
              ports.unrecorded.remember(request.id, messageIds, false);
              throw error;
            }
            failpoint('notifier:part-recorded');
          }),
      });
    } catch (error) {
      if (error instanceof StepFailed) {
        if (error.reason instanceof AlreadySettled) return 'duplicate';
        throw error.reason;
      }
      if (error instanceof LeaseLostError) throw error;
      return await failed(error);
    }
    try {
      await retryTransient(() => store.recordSent(request.id, messageIds));
    } catch (error) {
      ports.unrecorded.remember(request.id, messageIds, true);
      throw error;
    }
    logger.info({ ...context, user_id: to.userId, messages: messageIds.length }, 'notification sent');
    return 'sent';

    /** The send failed at a request (`inFlight`: it had left) or before one. */
    async function failed(error: unknown): Promise<DeliveryOutcome> {
      const failure = sendFailure(error);
      const log = { ...context, user_id: to!.userId, code: failure.code, error: failure.description };
      if (error instanceof RetryLaterError) {
        // Put off by the budget (or another's first upload of a medium): nothing is on its way.
        if (recorded) await retryTransient(() => store.releaseAttempt(request.id));
        if (error.retryAfterMs <= MAX_REDELIVERY_WAIT_MS) throw error;
        await retryTransient(() => store.recordFailure(request, failure));
        logger.warn({ ...log, wait_ms: error.retryAfterMs }, 'the bot is paused; stored for retry');
        return 'failed';
      }
      if (inFlight && !certainlyNotDelivered(error)) {
        if (rule === 'skip') {
          await retryTransient(() => store.recordAmbiguous(request.id));
          logger.warn(log, 'no answer from Telegram; not sent again (ambiguity rule: skip)');
          return 'ambiguous';
        }
        await retryTransient(() => store.recordFailure(request, failure));
        logger.warn(log, 'no answer from Telegram; stored for retry');
        return 'failed';
      }
      const kind = failureClass(error);
      if (kind === 'unreachable') {
        // Marked first: if users cannot be told, the request is redelivered and Telegram asked again.
        await retryTransient(() => ports.markUnreachable(to!.chatId, failure.description.slice(0, 300)));
        await retryTransient(() => store.recordFailure(request, failure, true));
        logger.warn(log, 'the user cannot be reached (marked unreachable); not retried');
        return 'undeliverable';
      }
      if (kind === 'rejected') {
        await retryTransient(() => store.recordFailure(request, failure, true));
        logger.error(log, 'Telegram rejects the message itself; not retried');
        return 'undeliverable';
      }
      const status = await retryTransient(() => store.recordFailure(request, failure));
      // Logged at error level, once, when the retry job raises its admin alert.
      if (status === 'abandoned') logger.warn(log, 'notification failed for the last time; abandoned');
      else logger.warn(log, 'notification failed; stored for retry');
      return 'failed';
    }
  } finally {
    await lease.release();
  }
}

const contentKind = (request: NotificationRequest) => (isTemplateRequest(request) ? 'text' : request.content.kind);

async function addressee(request: NotificationRequest, ports: DeliveryPorts): Promise<Addressee | undefined> {
  const params = isTemplateRequest(request) ? (request.params as Record<string, unknown>) : {};
  const fromUserId = typeof params.fromUserId === 'string' ? params.fromUserId : undefined;
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

export interface UnrecordedSend {
  messageIds: number[];
  /** Every part was sent (else: the parts so far). */
  complete: boolean;
}

/** A bounded memory of sends not yet recorded: the oldest is forgotten first (its row stays 'sending'). */
export class UnrecordedSends {
  private readonly sends = new Map<string, UnrecordedSend>();

  constructor(private readonly limit = 10_000) {}

  remember(id: string, messageIds: number[], complete = true): void {
    this.sends.delete(id);
    this.sends.set(id, { messageIds: [...messageIds], complete });
    if (this.sends.size > this.limit) this.sends.delete(this.sends.keys().next().value!);
  }

  take(id: string): UnrecordedSend | undefined {
    const send = this.sends.get(id);
    this.sends.delete(id);
    return send;
  }
}
