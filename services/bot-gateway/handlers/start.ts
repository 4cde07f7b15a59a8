import type { BotContext } from '../context';
import { mainMenu } from '../keyboards';
import { looksLikeReferralCode } from '../../../lib/contracts';
import { startText } from '../views';
import { helpText } from '../withdrawal-views';
import { currentUser, say, type BotDeps } from './common';

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
  await say(ctx, helpText(ctx.gateway.lang, ctx.gateway.isAdmin), mainMenu(ctx.gateway.lang));
}
