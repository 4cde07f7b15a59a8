// `bot-gateway`: the Telegram bot. Long polling when TELEGRAM_WEBHOOK_DOMAIN is empty (run ONE replica then);
// webhook otherwise, with updates arriving through the HTTP gateway as `bot-gateway.handleUpdate`.
import { setTimeout as sleep } from 'node:timers/promises';
import { Errors, type ServiceBroker } from 'moleculer';
import type { Telegraf } from 'telegraf';
import type { Update } from 'telegraf/types';
import { BotGatewayActions, callAction, consume, implement, UsersActions, UsersChannels } from '../../lib/contracts';
import { serviceLogger } from '../../lib/logger';
import { clearNotReady, markNotReady } from '../../lib/not-ready';
import { defineService } from '../../lib/runtime';
import { StartupError } from '../../lib/startup-errors';
import { afterUnreachableMark } from './activity';
import { brokerBackend } from './backend';
import { brokerBroadcasts } from './broadcast-backend';
import { mirrorBan, rebuildBanMirror } from './ban-mirror';
import { ALLOWED_UPDATES, createBot } from './bot';
import { registerCommands, type CommandRegistration } from './bot-commands';
import { botGatewayConfig } from './config';
import type { BotContext } from './context';
import { claimUpdate } from './middleware/update-claim';
import { gatewayKeys } from './redis-keys';
import { networkFailure, telegramRefusal } from './telegram-start';
import { isTelegramUpdate, secretMatches, webhookUrl } from './webhook';

const { MoleculerClientError } = Errors;

export const botGatewayService = defineService('bot-gateway', botGatewayConfig, (runtime) => {
  const { config, redis } = runtime;
  const log = serviceLogger('bot-gateway');
  const keys = gatewayKeys(config.NAMESPACE, config.TELEGRAM_BOT_TOKEN);
  const webhookMode = Boolean(config.TELEGRAM_WEBHOOK_DOMAIN);
  let bot: Telegraf<BotContext> | undefined;
  let polling: Promise<void> | undefined;
  let commandLists: CommandRegistration | undefined;
  let reconnecting: Promise<void> | undefined;
  let reconnectAbort: AbortController | undefined;

  /** getMe (and what follows) again, 1 s doubling to 30 s apart, until it works or the service stops. */
  async function reconnect(
    current: Telegraf<BotContext>,
    connect: (bot: Telegraf<BotContext>) => Promise<void>,
  ): Promise<void> {
    reconnectAbort = new AbortController();
    const { signal } = reconnectAbort;
    for (let delay = 1_000; !signal.aborted; delay = Math.min(delay * 2, 30_000)) {
      await sleep(delay, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) return;
      try {
        await connect(current);
        if (signal.aborted) {
          // The service stopped while this attempt hung: it must not keep polling behind the stop.
          if (!webhookMode) current.stop('service stopped');
          return;
        }
        clearNotReady('telegram');
        log.warn(`TELEGRAM_API_ROOT (${config.TELEGRAM_API_ROOT}): the Telegram Bot API answers again; the bot serves`);
        return;
      } catch (error) {
        const refused = telegramRefusal(error);
        if (refused) {
          log.error(`TELEGRAM_BOT_TOKEN: Telegram refused the token (${refused}); the bot serves nothing`);
          return;
        }
        log.debug({ err: error }, 'Telegram Bot API still unreachable');
      }
    }
  }

  return {
    name: 'bot-gateway',
    settings: { $noVersionPrefix: true },
    dependencies: ['users'],

    actions: {
      /** One update POSTed by Telegram to the HTTP gateway. Resolves once it is handled (or recognised as a duplicate). */
      handleUpdate: implement(BotGatewayActions.handleUpdate, async (ctx) => {
        if (!webhookMode || !bot) throw new MoleculerClientError('webhook mode is off', 404, 'WEBHOOK_DISABLED');
        const secret = typeof ctx.params.secretToken === 'string' ? ctx.params.secretToken : undefined;
        if (!secretMatches(secret, config.TELEGRAM_WEBHOOK_SECRET)) {
          log.warn({ request_id: ctx.requestID }, 'webhook call with a wrong or missing secret refused');
          throw new MoleculerClientError('the webhook secret token is wrong or missing', 401, 'FORGED_WEBHOOK');
        }
        if (!isTelegramUpdate(ctx.params.update))
          throw new MoleculerClientError('not a Telegram update', 400, 'INVALID_UPDATE');
        const update = ctx.params.update as Update;
        if (!(await claimUpdate(redis, keys, update.update_id, log))) return { ok: true as const, duplicate: true };
        await bot.handleUpdate(update);
        return { ok: true as const, duplicate: false };
      }),
    },

    channels: {
      // One group for every replica: they share one Redis mirror.
      ...consume(
        UsersChannels.banChanged,
        { group: 'bot-gateway', maxInFlight: 10, maxRetries: 100 },
        async (change) => {
          await mirrorBan(redis, keys, change);
        },
      ),
      // A user just marked unreachable is reported on their next update, throttle or not (activity.ts).
      ...consume(
        UsersChannels.reachabilityChanged,
        { group: 'bot-gateway', maxInFlight: 10, maxRetries: 100 },
        async function (this: { broker: ServiceBroker }, change) {
          if (change.reachable) return;
          const reported = await afterUnreachableMark(redis, keys, change.telegramId, new Date(change.at), () =>
            callAction(this.broker, UsersActions.seen, { telegramId: change.telegramId }, { timeout: 5_000 }),
          );
          if (reported) log.info({ telegram_id: change.telegramId }, 'user wrote after being marked unreachable');
        },
      ),
    },

    async started() {
      try {
        log.info({ banned: await rebuildBanMirror(this.broker, redis, keys) }, 'ban mirror rebuilt');
      } catch (error) {
        log.warn({ err: error }, 'could not rebuild the ban mirror; announcements keep it current');
      }
      bot = createBot({
        config,
        redis,
        keys,
        backend: brokerBackend(this.broker),
        broadcasts: brokerBroadcasts(this.broker),
        log,
        claimInChain: !webhookMode,
      });
      const connect = async (current: Telegraf<BotContext>) => {
        current.botInfo = await current.telegram.getMe();
        // The "/" menu in en and ru (admins' chats get the admin commands too); a failure is retried, never fatal.
        commandLists?.stop();
        commandLists = registerCommands(current.telegram, config.ADMIN_TELEGRAM_IDS, log);
        await commandLists.firstAttempt;
        if (webhookMode) {
          await current.telegram.setWebhook(webhookUrl(config.TELEGRAM_WEBHOOK_DOMAIN!), {
            secret_token: config.TELEGRAM_WEBHOOK_SECRET!,
            allowed_updates: [...ALLOWED_UPDATES],
          });
          log.info({ bot: current.botInfo.username }, 'bot started (webhook)');
          return;
        }
        polling = current.launch({ allowedUpdates: [...ALLOWED_UPDATES] }).catch((error: unknown) => {
          log.fatal({ err: error }, 'long polling stopped; no updates are received');
          // Most often a 409: another process polls this token. The node says so in readiness instead of idling.
          markNotReady('telegram-polling', `long polling stopped: ${(error as Error).message ?? String(error)}`);
        });
        log.info({ bot: current.botInfo.username }, 'bot started (long polling)');
      };
      try {
        await connect(bot);
      } catch (error) {
        // A refused token is a configuration error no retry mends: the start fails with one line.
        const refused = telegramRefusal(error);
        if (refused)
          throw new StartupError(
            `TELEGRAM_BOT_TOKEN: Telegram (${config.TELEGRAM_API_ROOT}) refused the token (${refused}); set TELEGRAM_BOT_TOKEN to the token @BotFather gave`,
          );
        const unreachable = networkFailure(error);
        if (!unreachable) throw error;
        // Telegram unreachable is a dependency gone away: the process stays up (its other services work on), the
        // bot serves nothing and the node is not ready until getMe answers.
        log.warn(
          `TELEGRAM_API_ROOT (${config.TELEGRAM_API_ROOT}): the Telegram Bot API is unreachable (${unreachable}); the bot retries and serves nothing until it answers`,
        );
        markNotReady('telegram', `the Telegram Bot API at ${config.TELEGRAM_API_ROOT} is unreachable`);
        reconnecting = reconnect(bot, connect);
      }
    },

    async stopped() {
      commandLists?.stop();
      reconnectAbort?.abort();
      // An attempt to an unanswering host may hang; the stop does not wait for it (the loop stops what it starts).
      await Promise.race([reconnecting, sleep(1_000)]);
      clearNotReady('telegram');
      clearNotReady('telegram-polling');
      if (bot && !webhookMode) {
        try {
          bot.stop('service stopped');
        } catch {
          // it never got to polling
        }
        await polling;
      }
      bot = undefined;
    },
  };
});
