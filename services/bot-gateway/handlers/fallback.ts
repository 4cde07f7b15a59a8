// Whatever no command handled: a pending wallet address, withdrawal amount or rejection reason, an unknown command,
// anything else. (A pending financial password never gets here: bot.ts takes it first.)
import { t } from '../../../lib/i18n';
import type { BotContext } from '../context';
import { mainMenu } from '../keyboards';
import { takeRejectReason } from './admin';
import { answerUnknownCommand, say, type BotDeps } from './common';
import { registerWallet } from './wallet';
import { takeAmount } from './withdraw';

export async function handleText(ctx: BotContext, deps: BotDeps, text: string): Promise<void> {
  const lang = ctx.gateway.lang;
  if (text.startsWith('/')) {
    await answerUnknownCommand(ctx, text);
    return;
  }
  switch (ctx.gateway.session.awaiting) {
    case 'wallet':
      return registerWallet(ctx, deps, text);
    case 'withdraw_amount':
      return takeAmount(ctx, deps, text);
    case 'reject_reason':
      if (ctx.gateway.isAdmin) return takeRejectReason(ctx, deps, text);
      break;
  }
  await say(ctx, t(lang, 'common.unknown_text'), mainMenu(lang));
}

export async function handleOtherMessage(ctx: BotContext): Promise<void> {
  await say(ctx, t(ctx.gateway.lang, 'common.unknown_text'), mainMenu(ctx.gateway.lang));
}

export async function handleUnknownButton(ctx: BotContext): Promise<void> {
  await ctx.answerCbQuery(t(ctx.gateway.lang, 'common.unknown_button'), { show_alert: true });
}
