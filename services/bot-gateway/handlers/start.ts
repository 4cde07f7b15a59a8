import { t } from '../../../lib/i18n';
import type { BotContext } from '../context';
import { mainMenu } from '../keyboards';
import { startText } from '../views';
import { currentUser, say, type BotDeps } from './common';

export async function showStart(ctx: BotContext, deps: BotDeps, payload: string): Promise<void> {
  const code = payload.trim();
  const registration = await currentUser(ctx, deps, code || undefined);
  const lang = ctx.gateway.lang;
  const name = ctx.from?.first_name || ctx.from?.username || '';
  await say(ctx, startText(lang, name, registration, code !== ''), mainMenu(lang));
}

export async function showHelp(ctx: BotContext): Promise<void> {
  await say(ctx, t(ctx.gateway.lang, 'help.text'), mainMenu(ctx.gateway.lang));
}
