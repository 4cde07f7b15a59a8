import type { ServiceSchema } from 'moleculer';
import { Telegram } from 'telegraf';
import { Channels } from '../../lib/channels';
import { serviceLogger } from '../../lib/logger';
import type { Runtime } from '../../lib/runtime';
import { retryTransient } from '../../lib/retry';
import { compilePayload } from '../../lib/validate';
import { NotificationLog, sendFailure } from './delivery';
import { renderNotification } from './render';
import { notificationRequestSchema, type Contact, type NotificationRequest } from './schemas';

/** A 429 that asks to wait at most this long is waited out in place; longer ones go to the retry job. */
const MAX_INLINE_WAIT_MS = 30_000;

export function notifierService(runtime: Runtime): ServiceSchema {
  const { config, db, redis } = runtime;
  const log = serviceLogger('notifier');
  const parseRequest = compilePayload<NotificationRequest>(notificationRequestSchema);
  const telegram = new Telegram(config.TELEGRAM_BOT_TOKEN, { apiRoot: config.TELEGRAM_API_ROOT });
  const notifications = new NotificationLog(db.pool, redis);
  let retryTimer: NodeJS.Timeout | undefined;
  let retrying: Promise<void> | undefined;

  return {
    name: 'notifier',
    // Sender matching and recipients come from users; without it there is nothing safe to do.
    dependencies: ['users'],

    actions: {
      /** Runs the notification-retry job now (operators: `call notifier.retryFailed`). */
      retryFailed: {
        async handler(this: NotifierThis) {
          return this.retryFailed();
        },
      },
    },

    channels: {
      [Channels.notificationRequested]: {
        group: 'notifier',
        maxInFlight: 20,
        // Each delivery already waits out a short users outage; a promised message is not given up lightly.
        maxRetries: 100,
        async handler(this: NotifierThis, payload: unknown) {
          await this.deliver(parseRequest(payload));
        },
      },
    },

    methods: {
      async deliver(this: NotifierThis, request: NotificationRequest): Promise<'sent' | 'duplicate' | 'failed'> {
        // Claim first, then look: checking first lets a copy slip in between another's commit and release.
        // A copy that finds the claim held waits for the holder's outcome rather than acking a message
        // that might still fail.
        await retryTransient(async () => {
          if (!(await notifications.claim(request.id)))
            throw new Error(`notification ${request.id} is being sent by another delivery`);
        });
        try {
          if (await notifications.wasSent(request.id)) return 'duplicate';
          const ids = [
            request.userId,
            ...(request.params.fromUserId !== undefined ? [String(request.params.fromUserId)] : []),
          ];
          const contacts = await retryTransient(() =>
            this.broker.call<Contact[], { userIds: string[] }>('users.contacts', { userIds: ids }, { timeout: 5000 }),
          );
          const recipient = contacts.find((c) => c.userId === request.userId);
          if (!recipient) {
            await notifications.recordFailure(request.id, request.userId, request.template, request.params, {
              code: null,
              description: 'unknown user',
            });
            return 'failed';
          }
          const names = new Map(contacts.map((c) => [c.userId, c.firstName ?? '—']));
          const text = renderNotification(request, recipient, config.USDT_DECIMALS, names);
          let message: { message_id: number };
          try {
            message = await this.sendText(recipient.telegramId, text);
          } catch (error) {
            const failure = sendFailure(error);
            await notifications.recordFailure(request.id, request.userId, request.template, request.params, failure);
            log.warn(
              { user_id: request.userId, notification_id: request.id, code: failure.code, error: failure.description },
              'notification failed; stored for retry',
            );
            return 'failed';
          }
          // Telegram has it: recording that must not turn into a second send.
          await retryTransient(() =>
            notifications.recordSent(
              request.id,
              request.userId,
              recipient.telegramId,
              request.template,
              message.message_id,
            ),
          );
          log.info(
            { user_id: request.userId, notification_id: request.id, template: request.template },
            'notification sent',
          );
          return 'sent';
        } finally {
          await notifications.release(request.id);
        }
      },

      /** Sends, waiting out Telegram's 429s in place while the total wait stays short. */
      async sendText(chatId: string, text: string) {
        let waited = 0;
        for (;;) {
          try {
            return await telegram.sendMessage(chatId, text, {
              parse_mode: 'HTML',
              link_preview_options: { is_disabled: true },
            });
          } catch (error) {
            const failure = sendFailure(error);
            const waitMs = (failure.retryAfterSeconds ?? 0) * 1000;
            if (failure.code !== 429 || waited + waitMs > MAX_INLINE_WAIT_MS) throw error;
            waited += waitMs;
            await new Promise((resolve) => setTimeout(resolve, waitMs));
          }
        }
      },

      /** The notification-retry job: resends what is due in failed_notifications. */
      async retryFailed(this: NotifierThis) {
        const due = await notifications.due();
        let sent = 0;
        for (const row of due) {
          const outcome = await this.deliver({
            id: row.notification_id,
            userId: row.user_id,
            template: row.template,
            params: row.params,
          });
          if (outcome !== 'failed') sent++;
        }
        return { due: due.length, sent };
      },
    },

    started(this: NotifierThis) {
      const tick = () => {
        retrying = this.retryFailed()
          .then(() => undefined)
          .catch((error: unknown) => log.error({ err: error }, 'notification-retry job failed'))
          .finally(() => {
            retrying = undefined;
          });
        retryTimer = setTimeout(tick, config.NOTIFICATION_RETRY_INTERVAL_MS);
      };
      retryTimer = setTimeout(tick, config.NOTIFICATION_RETRY_INTERVAL_MS);
    },

    async stopped() {
      clearTimeout(retryTimer);
      await retrying;
    },
  } as unknown as ServiceSchema;
}

interface NotifierThis {
  broker: import('moleculer').ServiceBroker;
  deliver(request: NotificationRequest): Promise<'sent' | 'duplicate' | 'failed'>;
  sendText(chatId: string, text: string): Promise<{ message_id: number }>;
  retryFailed(): Promise<{ due: number; sent: number }>;
}
