// The telegraf bot. Middleware chain: request-id → flood wait → [update claim] → log → ban → rate limit → session;
// then the commands, each also reachable from the inline menu.
import { Errors } from 'moleculer';
import { Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import type { BotGatewayConfig } from './config';
import { t } from '../../lib/i18n';
import type { Logger } from '../../lib/logger';
import type { Redis } from '../../lib/redis';
import type { Backend } from './backend';
import { BotContext, type GatewayState } from './context';
import type { BotDeps } from './handlers/common';
import { handleOtherMessage, handleText, handleUnknownButton } from './handlers/fallback';
import { showBalance, showDeposit, showReferrals } from './handlers/money';
import { showHelp, showStart } from './handlers/start';
import { cancelWallet, registerWallet, showWallet } from './handlers/wallet';
import { Buttons } from './keyboards';
import { refuseBanned } from './middleware/ban';
import { waitOutFloodLimits } from './middleware/flood-wait';
import { logUpdates } from './middleware/logging';
import { rateLimit } from './middleware/rate-limit';
import { requestId } from './middleware/request-id';
import { sessions } from './middleware/session';
import { claimUpdates } from './middleware/update-claim';
import type { GatewayKeys } from './redis-keys';

export const ALLOWED_UPDATES = ['message', 'callback_query'] as const;

export interface BotOptions {
  config: BotGatewayConfig;
  redis: Redis;
  keys: GatewayKeys;
  backend: Backend;
  log: Logger;
  /** Long polling claims each update in the chain; webhook mode claims before handing the update over. */
  claimInChain: boolean;
}

export function createBot({ config, redis, keys, backend, log, claimInChain }: BotOptions): Telegraf<BotContext> {
  const bot = new Telegraf<BotContext>(config.TELEGRAM_BOT_TOKEN, {
    contextType: BotContext,
    telegram: { apiRoot: config.TELEGRAM_API_ROOT },
    handlerTimeout: 30_000,
  });
  const deps: BotDeps = { backend, config };

  bot.use(requestId(log));
  bot.use(waitOutFloodLimits());
  if (claimInChain) bot.use(claimUpdates(redis, keys));
  bot.use(logUpdates());
  bot.use(refuseBanned(redis, keys));
  bot.use(
    rateLimit(redis, keys, { windowMs: config.RATE_LIMIT_WINDOW_MS, maxRequests: config.RATE_LIMIT_MAX_REQUESTS }),
  );
  bot.use(sessions(redis, keys));
  // Admin authorisation belongs here once admins exist.

  // Any command ends a pending dialog step; /wallet starts it again.
  bot.on(message('text'), (ctx, next) => {
    if (ctx.message.text.startsWith('/')) ctx.gateway.session.awaiting = undefined;
    return next();
  });

  bot.start((ctx) => showStart(ctx, deps, ctx.payload));
  bot.help((ctx) => showHelp(ctx));
  bot.command('wallet', (ctx) => (ctx.payload.trim() ? registerWallet(ctx, deps, ctx.payload) : showWallet(ctx, deps)));
  bot.command('deposit', (ctx) => showDeposit(ctx, deps));
  bot.command('balance', (ctx) => showBalance(ctx, deps));
  bot.command('referrals', (ctx) => showReferrals(ctx, deps));

  const button = (data: string, handler: (ctx: BotContext) => Promise<void>) =>
    bot.action(data, async (ctx) => {
      await ctx.answerCbQuery();
      // Like a command, a button ends a pending dialog step (the wallet button starts it again).
      ctx.gateway.session.awaiting = undefined;
      await handler(ctx);
    });
  button(Buttons.deposit, (ctx) => showDeposit(ctx, deps));
  button(Buttons.balance, (ctx) => showBalance(ctx, deps));
  button(Buttons.wallet, (ctx) => showWallet(ctx, deps));
  button(Buttons.referrals, (ctx) => showReferrals(ctx, deps));
  button(Buttons.help, (ctx) => showHelp(ctx));
  button(Buttons.walletCancel, (ctx) => cancelWallet(ctx));
  bot.on('callback_query', (ctx) => handleUnknownButton(ctx));

  bot.on(message('text'), (ctx) => handleText(ctx, deps, ctx.message.text));
  bot.on('message', (ctx) => handleOtherMessage(ctx));

  bot.catch(async (error, ctx) => {
    const state = ctx.state as Partial<GatewayState>;
    (state.log ?? log).error({ err: error }, 'update failed');
    const retryable = error instanceof Errors.MoleculerRetryableError;
    const text = t(state.lang ?? 'en', retryable ? 'common.unavailable' : 'common.error');
    try {
      if (ctx.callbackQuery) await ctx.answerCbQuery(text, { show_alert: true }).catch(() => ctx.reply(text));
      else if (ctx.chat) await ctx.reply(text);
    } catch (replyError) {
      (state.log ?? log).warn({ err: replyError }, 'could not tell the user about the failure');
    }
  });
  return bot;
}
