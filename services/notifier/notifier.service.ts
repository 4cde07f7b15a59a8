// `notifier`: every message to one recipient (a template or any content: text, media, albums, keyboards), sent once
// where that can be known and by a stated rule where it cannot (deliver.ts); stored media uploaded once (media.ts);
// admin alerts to every ADMIN_TELEGRAM_IDS chat; the notification-retry job, which gives up visibly. docs/notifier.md.
import { Errors, type ServiceBroker } from 'moleculer';
import { Telegram } from 'telegraf';
import {
  callAction,
  consume,
  implement,
  NotifierActions,
  NotifierChannels,
  parsePayload,
  UsersActions,
  type MessageContent,
  type NotificationRequest,
} from '../../lib/contracts';
import { startJobs, type Jobs } from '../../lib/jobs';
import { Lease } from '../../lib/lease';
import { serviceLogger } from '../../lib/logger';
import { retryTransient } from '../../lib/retry';
import { defineService, sendToChannel } from '../../lib/runtime';
import { botIdOf, RetryLaterError, TelegramBudget } from '../../lib/telegram-budget';
import { sendContent, telegramError, type SentContent, type SendHooks } from '../../lib/telegram-send';
import { notifierConfig } from './config';
import {
  deliverNotification,
  UnrecordedSends,
  type DeliveryOutcome,
  type DeliveryPorts,
  type SendProgress,
} from './deliver';
import { MediaRefusedError, MediaStore, MediaUploads, withFileIds } from './media';
import { NotificationLog, type AbandonedNotification } from './notification-log';
import { renderNotification } from './render';

/**
 * The longest a send waits in place for the bot's budget or a shared 429 pause; a longer wait answers "retry
 * later" and the notification goes to failed_notifications with the wait (deliver.ts, the retry job).
 */
const MAX_INLINE_WAIT_MS = 5_000;
/** 429s in a row a send waits out in place before it gives the notification to the retry job. */
const MAX_INLINE_429S = 3;
/** A delivery that dies loses its lease this soon; the live holder renews it every third of that. */
const LEASE_TTL_MS = 5_000;
const NOTIFICATION_RETRY = 'notification-retry';

export const notifierService = defineService('notifier', notifierConfig, (runtime) => {
  const { config, db, redis } = runtime;
  const log = serviceLogger('notifier');
  const telegram = new Telegram(config.TELEGRAM_BOT_TOKEN, { apiRoot: config.TELEGRAM_API_ROOT });
  const store = new NotificationLog(db.pool);
  // One budget per bot in Redis, shared with every other replica and sender of this bot (lib/telegram-budget.ts).
  const budget = new TelegramBudget(redis, {
    namespace: config.NAMESPACE,
    botId: botIdOf(config.TELEGRAM_BOT_TOKEN),
    globalRate: config.TELEGRAM_GLOBAL_RATE,
    maxWaitMs: MAX_INLINE_WAIT_MS,
  });
  const media = new MediaStore(db.pool);
  let ports: DeliveryPorts | undefined;
  let jobs: Jobs | undefined;
  let broker: ServiceBroker | undefined;

  /**
   * Sends content to a chat: a slot of the bot's budget before every request (lib/telegram-send.ts, which waits out
   * a short 429 pause shared with every replica), stored media uploaded once (media.ts).
   */
  async function send(chatId: string, content: MessageContent, progress?: SendProgress): Promise<SentContent> {
    const uploads = new MediaUploads(media, redis, { namespace: config.NAMESPACE });
    const hooks: SendHooks = {
      // One take per request: an album is one request to Telegram's per-chat pace.
      slot: (messages) => budget.take(chatId, 'transactional', messages),
      paused: (seconds) => budget.pause(seconds),
      media: (ref, kind) => uploads.resolve(ref, kind),
      max429s: MAX_INLINE_429S,
      ...(progress ?? {}),
    };
    let sent: SentContent | undefined;
    try {
      sent = await sendContent(telegram, chatId, content, hooks);
      return sent;
    } finally {
      await retryTransient(() => uploads.finish(content, sent?.fileIds)).catch((error: unknown) =>
        log.error({ err: error }, 'could not record the file_id of an upload; the medium will be uploaded again'),
      );
    }
  }

  /** One admin alert per abandoned notification (not for an abandoned alert of that kind: no loop). */
  async function alertAbandoned(): Promise<number> {
    let raised = 0;
    for (const row of await store.unalertedAbandoned()) {
      log.error(
        { notification_id: row.notificationId, user_id: row.userId, chat_id: row.chatId, error: row.error },
        'notification abandoned after its last attempt',
      );
      if (row.template !== 'admin.notification_abandoned') {
        const alert = parsePayload(NotifierChannels.adminAlert, abandonedAlert(row));
        // The alert's id makes it one delivery per admin however often it is published (a crash before the mark).
        await sendToChannel(broker!, NotifierChannels.adminAlert.name, alert, alert.id);
        raised++;
      }
      await store.markAlerted(row.notificationId);
    }
    return raised;
  }

  const deliver = (request: NotificationRequest): Promise<DeliveryOutcome> => {
    if (!ports) throw new Error('notifier is not started');
    return deliverNotification(request, ports);
  };

  const scheduledJobs = (): Jobs => {
    if (!jobs) throw new Error('notifier is not started');
    return jobs;
  };

  /**
   * The notification-retry job: resends what is due in failed_notifications, then raises the admin alert of every
   * notification abandoned meanwhile (here or by a channel delivery).
   */
  async function retryFailed() {
    const due = await store.due();
    let sent = 0;
    for (const row of due) {
      try {
        const outcome = await deliver(row);
        if (outcome === 'sent' || outcome === 'duplicate') sent++;
      } catch (error) {
        // Its chat or the bot has no slot for a few seconds: still due, for the next run. Anything else is logged
        // and still due; one row never stops the others.
        if (!(error instanceof RetryLaterError))
          log.warn({ notification_id: row.id, err: error }, 'retry of a notification failed; still due');
      }
    }
    await alertAbandoned();
    return { due: due.length, sent };
  }

  /** A Telegram refusal or a medium that cannot be sent, as the caller's mistake; anything else as it is. */
  function refusal(error: unknown): unknown {
    const answer = telegramError(error);
    if (error instanceof MediaRefusedError) return new Errors.MoleculerClientError(error.message, 422, 'MEDIA_REFUSED');
    if (answer && answer.code >= 400 && answer.code < 500 && answer.code !== 429)
      return new Errors.MoleculerClientError(`Telegram refused: ${answer.description}`, 422, 'TELEGRAM_REFUSED', {
        code: answer.code,
      });
    return error;
  }

  return {
    name: 'notifier',
    // Recipients and their languages come from users; without it there is nothing safe to do.
    dependencies: ['users'],

    actions: {
      send: implement(NotifierActions.send, async (ctx) => ({ outcome: await deliver(ctx.params) })),
      storeMedia: implement(NotifierActions.storeMedia, async (ctx) => {
        const bytes = Buffer.from(ctx.params.base64, 'base64');
        if (bytes.length === 0) throw new Errors.MoleculerClientError('the medium is empty', 422, 'EMPTY_MEDIUM');
        return media.store({
          kind: ctx.params.kind,
          filename: ctx.params.filename,
          mimeType: ctx.params.mimeType,
          bytes,
        });
      }),
      // A preview is sent now, outside the notification log: an admin looks at it and confirms or edits.
      preview: implement(NotifierActions.preview, async (ctx) => {
        try {
          const sent = await send(ctx.params.chatId, ctx.params.content);
          return { content: withFileIds(ctx.params.content, sent.fileIds), messageIds: sent.messageIds };
        } catch (error) {
          throw refusal(error);
        }
      }),
      retryFailed: implement(NotifierActions.retryFailed, async () =>
        NotifierActions.retryFailed.result.parse(await scheduledJobs().runNow(NOTIFICATION_RETRY)),
      ),
      jobs: implement(NotifierActions.jobs, () => scheduledJobs().status()),
    },

    channels: {
      // Each delivery waits out a short users outage; a promised message is not given up lightly.
      ...consume(
        NotifierChannels.notificationRequested,
        { group: 'notifier', maxInFlight: 20, maxRetries: 100 },
        (request) => deliver(request).then(() => undefined),
      ),
      ...consume(NotifierChannels.adminAlert, { group: 'notifier', maxInFlight: 5, maxRetries: 100 }, async (alert) => {
        log.warn({ alert_id: alert.id, template: alert.template, params: alert.params }, 'admin alert');
        if (config.ADMIN_TELEGRAM_IDS.length === 0) {
          log.error({ alert_id: alert.id }, 'admin alert with no ADMIN_TELEGRAM_IDS to send it to');
          return;
        }
        // One notification per admin, each with its own id, so one unreachable admin delays nobody else.
        for (const chatId of config.ADMIN_TELEGRAM_IDS) {
          await deliver(
            parsePayload(NotifierChannels.notificationRequested, {
              id: `${alert.id}:admin:${chatId}`,
              chatId,
              template: alert.template,
              params: alert.params,
            }),
          );
        }
      }),
    },

    started() {
      broker = this.broker;
      ports = {
        store,
        lease: (id) =>
          retryTransient(async () => {
            const lease = await Lease.acquire(redis, `${config.NAMESPACE}:notify:lease:${id}`, { ttlMs: LEASE_TTL_MS });
            // Held by a live delivery: wait for its outcome rather than acking a message that might still fail.
            if (!lease) throw new Error(`notification ${id} is being sent by another delivery`);
            return lease;
          }),
        contacts: (userIds) => callAction(this.broker, UsersActions.contacts, { userIds }, { timeout: 5000 }),
        chatLanguage: async (chatId) =>
          (await callAction(this.broker, UsersActions.byTelegramId, { telegramId: chatId }, { timeout: 5000 }))
            ?.languageCode ?? null,
        render: (request, to) =>
          renderNotification(request, to, { decimals: config.USDT_DECIMALS, explorerUrl: config.BSC_EXPLORER_URL }),
        send,
        markUnreachable: async (telegramId, reason) => {
          await callAction(this.broker, UsersActions.markUnreachable, { telegramId, reason }, { timeout: 5000 });
        },
        unrecorded: new UnrecordedSends(),
        logger: log,
      };
      // Not awaited: a Redis away at start delays the schedule, not the notifier.
      jobs = startJobs({
        redis: config.REDIS_URL,
        namespace: config.NAMESPACE,
        log,
        pool: db.pool,
        jobs: [{ name: NOTIFICATION_RETRY, every: config.NOTIFICATION_RETRY_INTERVAL_MS, run: retryFailed }],
      });
    },

    async stopped() {
      await jobs?.stop();
      jobs = undefined;
    },
  };
});

function abandonedAlert(row: AbandonedNotification) {
  return {
    id: `notification-abandoned:${row.notificationId}`.slice(0, 270),
    template: 'admin.notification_abandoned' as const,
    params: {
      notificationId: row.notificationId,
      recipient: row.userId !== null ? `user #${row.userId}` : `chat ${row.chatId}`,
      attempts: row.attempts,
      error: row.error,
    },
  };
}
