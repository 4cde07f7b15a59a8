import type { BotContext } from '../context';
import { mainMenu } from '../keyboards';
import { t } from '../../../lib/i18n';
import { looksLikeReferralCode } from '../../../lib/contracts';
import { startText } from '../views';
import { helpText } from '../withdrawal-views';
import { currentUser, replaceMessage, say, showScreen, type BotDeps } from './common';

export async function showStart(ctx: BotContext, deps: BotDeps, payload: string): Promise<void> {
  const code = payload.trim();
  // Anything typed after /start arrives here (up to 4,096 characters); only a possible code goes further.
  const plausible = looksLikeReferralCode(code);
  const registered = await currentUser(ctx, deps, plausible ? code : undefined);
  const registration = code && !plausible ? { ...registered, referral: 'unknown' as const } : registered;
  const lang = ctx.gateway.lang;
  const name = ctx.from?.first_name || ctx.from?.username || '';
  await say(ctx, startText(lang, name, registration, code !== ''), mainMenu(lang));
}

export async function showHelp(ctx: BotContext): Promise<void> {
  await showScreen(ctx, helpText(ctx.gateway.lang, ctx.gateway.isAdmin));
}

/** The menu's Back button: the screen becomes the menu again, in the same message. */
export async function showMenu(ctx: BotContext): Promise<void> {
  await replaceMessage(ctx, t(ctx.gateway.lang, 'menu.title'), mainMenu(ctx.gateway.lang));
}
