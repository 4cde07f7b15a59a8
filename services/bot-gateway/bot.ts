// The telegraf bot. Middleware chain: request-id → flood wait → [update claim] → activity → log → private chats only
// → ban → rate limit → session → admin auth; then a pending financial password, then the commands, each also
// reachable from the inline menu (whose screens edit the menu message in place; a typed command is answered with a
// new message).
import { Errors } from 'moleculer';
import { Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import type { BotGatewayConfig } from './config';
import { t } from '../../lib/i18n';
import type { Logger } from '../../lib/logger';
import type { Redis } from '../../lib/redis';
import type { Backend } from './backend';
import { albumStore } from './broadcast-albums';
import type { Broadcasts, ControlAction } from './broadcast-backend';
import { BroadcastButtons, type AudienceChoice } from './broadcast-keyboards';
import { isCommandFor, type AdminCommand } from './commands';
import { BotContext, type GatewayState } from './context';
import { settleDialog } from './dialog-outcome';
import {
  approveButton,
  approveCommand,
  keepButton,
  rejectButton,
  rejectCommand,
  retryCommand,
  showPending,
  voidCommand,
} from './handlers/admin';
import { showUnreachable, showUser } from './handlers/admin-users';
import {
  cancelBroadcastDialog,
  chooseAudience,
  controlFromList,
  controlFromProgress,
  finishAlbum,
  sendBroadcast,
  showBroadcasts,
  skipButtons,
  startBroadcast,
  takeBroadcastMessage,
  type BroadcastDeps,
} from './handlers/broadcast';
import { answerUnknownCommand, type BotDeps } from './handlers/common';
import { handleOtherMessage, handleText, handleUnknownButton } from './handlers/fallback';
import { showBalance, showDeposit, showReferrals } from './handlers/money';
import { showHelp, showMenu, showStart } from './handlers/start';
import { cancelWallet, registerWallet, showWallet } from './handlers/wallet';
import { cancelDialog, confirmWithdrawal, startWithdrawal, takePassword } from './handlers/withdraw';
import { cancelWithdrawal, showWithdrawals } from './handlers/withdrawals';
import { ArgumentButtons, Buttons, type ButtonWithArgument } from './keyboards';
import { reportActivity } from './middleware/activity';
import { authoriseAdmins } from './middleware/admin';
import { refuseBanned } from './middleware/ban';
import { waitOutFloodLimits } from './middleware/flood-wait';
import { logUpdates } from './middleware/logging';
import { privateChatsOnly } from './middleware/private-chats';
import { rateLimit } from './middleware/rate-limit';
import { requestId } from './middleware/request-id';
import { sessions } from './middleware/session';
import { claimUpdates } from './middleware/update-claim';
import type { GatewayKeys } from './redis-keys';

export const ALLOWED_UPDATES = ['message', 'callback_query'] as const;

const PASSWORD_STEPS = new Set(['withdraw_new_password', 'withdraw_repeat_password', 'withdraw_password']);

export interface BotOptions {
  config: BotGatewayConfig;
  redis: Redis;
  keys: GatewayKeys;
  backend: Backend;
  broadcasts: Broadcasts;
  log: Logger;
  /** Long polling claims each update in the chain; webhook mode claims before handing the update over. */
  claimInChain: boolean;
}

export function createBot({
  config,
  redis,
  keys,
  backend,
  broadcasts,
  log,
  claimInChain,
}: BotOptions): Telegraf<BotContext> {
  const bot = new Telegraf<BotContext>(config.TELEGRAM_BOT_TOKEN, {
    contextType: BotContext,
    telegram: { apiRoot: config.TELEGRAM_API_ROOT },
    handlerTimeout: 30_000,
  });
  const deps: BotDeps = {
    backend,
    config,
    settleDialog: (telegramId, dialogId, outcome) =>
      settleDialog(redis, keys.dialogOutcome(telegramId, dialogId), outcome),
  };
  const broadcastDeps: BroadcastDeps = { ...deps, broadcasts, albums: albumStore(redis, keys) };

  bot.use(requestId(log));
  bot.use(waitOutFloodLimits());
  if (claimInChain) bot.use(claimUpdates(redis, keys));
  bot.use(reportActivity(redis, keys, backend, log));
  bot.use(logUpdates());
  bot.use(privateChatsOnly());
  bot.use(refuseBanned(redis, keys));
  bot.use(
    rateLimit(redis, keys, { windowMs: config.RATE_LIMIT_WINDOW_MS, maxRequests: config.RATE_LIMIT_MAX_REQUESTS }),
  );
  bot.use(sessions(redis, keys));
  bot.use(authoriseAdmins(config.ADMIN_TELEGRAM_IDS));

  const endStep = (ctx: BotContext) => {
    ctx.gateway.session.awaiting = undefined;
    ctx.gateway.session.rejecting = undefined;
  };

  // A financial password is deleted from the chat and never runs as a command: while one is awaited, every text
  // but one of the bot's commands is the password (a password may well start with "/").
  bot.on(message('text'), (ctx, next) =>
    PASSWORD_STEPS.has(ctx.gateway.session.awaiting ?? '') && !isCommandFor(ctx.message.text, ctx.gateway.isAdmin)
      ? takePassword(ctx, deps, ctx.message)
      : next(),
  );

  // Any command ends a pending dialog step; /wallet and /withdraw start theirs again.
  bot.on(message('text'), (ctx, next) => {
    if (ctx.message.text.startsWith('/')) endStep(ctx);
    return next();
  });

  bot.start((ctx) => showStart(ctx, deps, ctx.payload));
  bot.help((ctx) => showHelp(ctx));
  bot.command('wallet', (ctx) => (ctx.payload.trim() ? registerWallet(ctx, deps, ctx.payload) : showWallet(ctx, deps)));
  bot.command('deposit', (ctx) => showDeposit(ctx, deps));
  bot.command('balance', (ctx) => showBalance(ctx, deps));
  bot.command('withdraw', (ctx) => startWithdrawal(ctx, deps, ctx.payload));
  bot.command('withdrawals', (ctx) => showWithdrawals(ctx, deps));
  bot.command('referrals', (ctx) => showReferrals(ctx, deps));

  // Admin commands: anyone else is answered as for any unknown command (they are not advertised).
  const adminCommand = (name: AdminCommand, handler: (ctx: BotContext, payload: string) => Promise<void>) =>
    bot.command(name, (ctx) =>
      ctx.gateway.isAdmin ? handler(ctx, ctx.payload) : answerUnknownCommand(ctx, ctx.message.text),
    );
  adminCommand('pending', (ctx) => showPending(ctx, deps));
  adminCommand('approve', (ctx, payload) => approveCommand(ctx, deps, payload));
  adminCommand('reject', (ctx, payload) => rejectCommand(ctx, deps, payload));
  adminCommand('void', (ctx, payload) => voidCommand(ctx, deps, payload));
  adminCommand('retry', (ctx, payload) => retryCommand(ctx, deps, payload));
  adminCommand('user', (ctx, payload) => showUser(ctx, deps, payload));
  adminCommand('unreachable', (ctx, payload) => showUnreachable(ctx, deps, payload));
  adminCommand('broadcast', (ctx, payload) => startBroadcast(ctx, broadcastDeps, payload));
  adminCommand('broadcasts', (ctx) => showBroadcasts(ctx, broadcastDeps));

  const button = (data: string, handler: (ctx: BotContext) => Promise<void>) =>
    bot.action(data, async (ctx) => {
      await ctx.answerCbQuery();
      // Like a command, a button ends a pending dialog step (the wallet and withdraw buttons start theirs again).
      // The menu's screens take the place of the message whose button was pressed (handlers/common.ts showScreen).
      endStep(ctx);
      await handler(ctx);
    });
  button(Buttons.deposit, (ctx) => showDeposit(ctx, deps));
  button(Buttons.balance, (ctx) => showBalance(ctx, deps));
  button(Buttons.withdraw, (ctx) => startWithdrawal(ctx, deps, ''));
  button(Buttons.wallet, (ctx) => showWallet(ctx, deps));
  button(Buttons.referrals, (ctx) => showReferrals(ctx, deps));
  button(Buttons.help, (ctx) => showHelp(ctx));
  button(Buttons.menu, (ctx) => showMenu(ctx));
  button(Buttons.walletCancel, (ctx) => cancelWallet(ctx));

  // Buttons with an argument answer their own press (the answer says what happened).
  const argumentButton = (
    kind: ButtonWithArgument,
    handler: (ctx: BotContext, value: string) => Promise<void>,
    adminOnly = false,
  ) =>
    bot.action(kind.pattern, (ctx) =>
      adminOnly && !ctx.gateway.isAdmin ? handleUnknownButton(ctx) : handler(ctx, ctx.match[1]!),
    );
  argumentButton(ArgumentButtons.withdrawConfirm, (ctx, id) => confirmWithdrawal(ctx, deps, id));
  argumentButton(ArgumentButtons.withdrawCancel, (ctx, id) => cancelDialog(ctx, deps, id));
  argumentButton(ArgumentButtons.withdrawalCancel, (ctx, id) => cancelWithdrawal(ctx, deps, id));
  argumentButton(ArgumentButtons.approve, (ctx, id) => approveButton(ctx, deps, id), true);
  argumentButton(ArgumentButtons.reject, (ctx, id) => rejectButton(ctx, deps, id), true);
  argumentButton(ArgumentButtons.keep, (ctx, id) => keepButton(ctx, id), true);

  // The broadcast dialog and campaign control (handlers/broadcast.ts); admins only.
  const broadcastButton = (pattern: RegExp, handler: (ctx: BotContext, match: RegExpExecArray) => Promise<void>) =>
    bot.action(pattern, (ctx) => (ctx.gateway.isAdmin ? handler(ctx, ctx.match) : handleUnknownButton(ctx)));
  broadcastButton(BroadcastButtons.cancel.pattern, (ctx, m) => cancelBroadcastDialog(ctx, broadcastDeps, m[1]!));
  broadcastButton(BroadcastButtons.albumDone.pattern, (ctx, m) => finishAlbum(ctx, broadcastDeps, m[1]!));
  broadcastButton(BroadcastButtons.skipButtons.pattern, (ctx, m) => skipButtons(ctx, m[1]!));
  broadcastButton(BroadcastButtons.audience.pattern, (ctx, m) =>
    chooseAudience(ctx, broadcastDeps, m[1]!, m[2] as AudienceChoice),
  );
  broadcastButton(BroadcastButtons.send.pattern, (ctx, m) => sendBroadcast(ctx, broadcastDeps, m[1]!));
  broadcastButton(BroadcastButtons.control.pattern, (ctx, m) =>
    controlFromProgress(ctx, broadcastDeps, m[1] as ControlAction, m[2]!),
  );
  broadcastButton(BroadcastButtons.listControl.pattern, (ctx, m) =>
    controlFromList(ctx, broadcastDeps, m[1] as ControlAction, m[2]!),
  );
  bot.on('callback_query', (ctx) => handleUnknownButton(ctx));

  // While an admin's broadcast dialog waits for a message, any message (text, media, an album's items) is for it.
  bot.on('message', (ctx, next) =>
    ctx.gateway.isAdmin && ctx.gateway.session.awaiting === 'broadcast'
      ? takeBroadcastMessage(ctx, broadcastDeps, ctx.message)
      : next(),
  );
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
