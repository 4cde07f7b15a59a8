// Whatever no command handled: a pending wallet address, an unknown command, anything else.
import { t } from '../../../lib/i18n';
import type { BotContext } from '../context';
import { mainMenu } from '../keyboards';
import { say, type BotDeps } from './common';
import { registerWallet } from './wallet';

export async function handleText(ctx: BotContext, deps: BotDeps, text: string): Promise<void> {
  const lang = ctx.gateway.lang;
  if (text.startsWith('/')) {
    await say(
      ctx,
      t(lang, 'common.unknown_command', { command: text.split(/\s/, 1)[0]!.slice(0, 64) }),
      mainMenu(lang),
    );
    return;
  }
  if (ctx.gateway.session.awaiting === 'wallet') {
    await registerWallet(ctx, deps, text);
    return;
  }
  await say(ctx, t(lang, 'common.unknown_text'), mainMenu(lang));
}

export async function handleOtherMessage(ctx: BotContext): Promise<void> {
  await say(ctx, t(ctx.gateway.lang, 'common.unknown_text'), mainMenu(ctx.gateway.lang));
}

export async function handleUnknownButton(ctx: BotContext): Promise<void> {
  await ctx.answerCbQuery(t(ctx.gateway.lang, 'common.unknown_button'), { show_alert: true });
}
