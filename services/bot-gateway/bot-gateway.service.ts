// `bot-gateway`: the Telegram bot. Long polling when TELEGRAM_WEBHOOK_DOMAIN is empty (run ONE replica then);
// webhook otherwise, with updates arriving through the HTTP gateway as `bot-gateway.handleUpdate`.
import { Errors, type ServiceBroker } from 'moleculer';
import type { Telegraf } from 'telegraf';
import type { Update } from 'telegraf/types';
import { BotGatewayActions, callAction, consume, implement, UsersActions, UsersChannels } from '../../lib/contracts';
import { serviceLogger } from '../../lib/logger';
import { defineService } from '../../lib/runtime';
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
      bot.botInfo = await bot.telegram.getMe();
      // The "/" menu in en and ru (admins' chats get the admin commands too); a failure is retried, never fatal.
      commandLists = registerCommands(bot.telegram, config.ADMIN_TELEGRAM_IDS, log);
      await commandLists.firstAttempt;
      if (webhookMode) {
        await bot.telegram.setWebhook(webhookUrl(config.TELEGRAM_WEBHOOK_DOMAIN!), {
          secret_token: config.TELEGRAM_WEBHOOK_SECRET!,
          allowed_updates: [...ALLOWED_UPDATES],
        });
        log.info({ bot: bot.botInfo.username }, 'bot started (webhook)');
        return;
      }
      const launching = bot;
      polling = launching.launch({ allowedUpdates: [...ALLOWED_UPDATES] }).catch((error: unknown) => {
        log.fatal({ err: error }, 'long polling stopped; no updates are received');
      });
      log.info({ bot: bot.botInfo.username }, 'bot started (long polling)');
    },

    async stopped() {
      commandLists?.stop();
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
