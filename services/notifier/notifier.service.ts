// `notifier`: every message to one recipient, sent once where that can be known and by a stated rule where it
// cannot (deliver.ts); admin alerts to every ADMIN_TELEGRAM_IDS chat; the notification-retry job.
import { Telegram } from 'telegraf';
import {
  callAction,
  consume,
  implement,
  NotifierActions,
  NotifierChannels,
  parsePayload,
  UsersActions,
  type NotificationRequest,
} from '../../lib/contracts';
import { startJobs, type Jobs } from '../../lib/jobs';
import { Lease } from '../../lib/lease';
import { serviceLogger } from '../../lib/logger';
import { retryTransient } from '../../lib/retry';
import { defineService } from '../../lib/runtime';
import { botIdOf, RetryLaterError, TelegramBudget } from '../../lib/telegram-budget';
import { notifierConfig } from './config';
import { deliverNotification, UnrecordedSends, type DeliveryOutcome, type DeliveryPorts } from './deliver';
import { NotificationLog, sendFailure } from './notification-log';
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
  let ports: DeliveryPorts | undefined;
  let jobs: Jobs | undefined;

  /**
   * Sends with the slot deliver.ts took. A 429 pauses every replica for its retry_after; a short pause is waited
   * out here and a new slot taken, a long one (or a third 429 in a row) is thrown for deliver.ts to store for the
   * retry job.
   */
  async function sendText(chatId: string, text: string) {
    for (let tooMany = 0; ;) {
      try {
        return await telegram.sendMessage(chatId, text, {
          parse_mode: 'HTML',
          link_preview_options: { is_disabled: true },
        });
      } catch (error) {
        const failure = sendFailure(error);
        if (failure.code !== 429) throw error;
        await budget.pause(failure.retryAfterSeconds ?? 1);
        if (++tooMany >= MAX_INLINE_429S) throw error;
        await budget.take(chatId, 'transactional');
      }
    }
  }

  const deliver = (request: NotificationRequest): Promise<DeliveryOutcome> => {
    if (!ports) throw new Error('notifier is not started');
    return deliverNotification(request, ports);
  };

  const scheduledJobs = (): Jobs => {
    if (!jobs) throw new Error('notifier is not started');
    return jobs;
  };

  /** The notification-retry job: resends what is due in failed_notifications. */
  async function retryFailed() {
    const due = await store.due();
    let sent = 0;
    for (const row of due) {
      try {
        if ((await deliver(row)) !== 'failed') sent++;
      } catch (error) {
        // Its chat or the bot has no slot for a few seconds: still due, for the next run.
        if (!(error instanceof RetryLaterError)) throw error;
      }
    }
    return { due: due.length, sent };
  }

  return {
    name: 'notifier',
    // Recipients and their languages come from users; without it there is nothing safe to do.
    dependencies: ['users'],

    actions: {
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
        slot: (chatId) => budget.take(chatId, 'transactional'),
        send: sendText,
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
