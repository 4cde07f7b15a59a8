// /deposit, /balance and /referrals: what the user needs to pay in and what they have (screens of the menu).
import { t } from '../../../lib/i18n';
import type { BotContext } from '../context';
import { walletButton } from '../keyboards';
import { balanceText, depositText, referralLink, referralsText } from '../views';
import { currentUserRecord, optional, showScreen, type BotDeps } from './common';

export async function showDeposit(ctx: BotContext, deps: BotDeps): Promise<void> {
  const user = await currentUserRecord(ctx, deps);
  const lang = ctx.gateway.lang;
  if (!user.walletAddress) {
    await showScreen(ctx, t(lang, 'deposit.no_wallet'), walletButton(lang));
    return;
  }
  const requestId = ctx.gateway.requestId;
  const [terms, levels] = await Promise.all([
    deps.backend.depositTerms(requestId),
    deps.backend.depositLevels(requestId),
  ]);
  await showScreen(ctx, depositText(lang, terms, levels, deps.config.USDT_DECIMALS, user.walletAddress));
}

export async function showBalance(ctx: BotContext, deps: BotDeps): Promise<void> {
  const user = await currentUserRecord(ctx, deps);
  const lang = ctx.gateway.lang;
  const balance = await optional(ctx, 'ledger.balance', () => deps.backend.balance(user.id, ctx.gateway.requestId));
  if (!balance) {
    await showScreen(ctx, t(lang, 'common.unavailable'));
    return;
  }
  await showScreen(ctx, balanceText(lang, balance, deps.config.USDT_DECIMALS));
}

export async function showReferrals(ctx: BotContext, deps: BotDeps): Promise<void> {
  const user = await currentUserRecord(ctx, deps);
  const lang = ctx.gateway.lang;
  const [counts, earnings] = await Promise.all([
    deps.backend.referralCounts(user.id, ctx.gateway.requestId),
    optional(ctx, 'ledger.referralEarnings', () => deps.backend.referralEarnings(user.id, ctx.gateway.requestId)),
  ]);
  const link = referralLink(ctx.botInfo.username, user.referralCode);
  await showScreen(ctx, referralsText(lang, link, counts, earnings, deps.config.USDT_DECIMALS));
}
