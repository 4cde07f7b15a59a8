// /withdrawals: the user's recent withdrawals with their status, and a cancel button on each that waits for approval.
import { t } from '../../../lib/i18n';
import type { BotContext } from '../context';
import { mainMenu, withdrawalsKeyboard } from '../keyboards';
import { exactAmount, refusalOf, statusText, withdrawalsView } from '../withdrawal-views';
import { currentUserRecord, replaceMessage, say, type BotDeps } from './common';

const RECENT = 10;

async function view(ctx: BotContext, deps: BotDeps, userId: string) {
  const withdrawals = await deps.backend.withdrawals({ userId, limit: RECENT }, ctx.gateway.requestId);
  const { text, cancellable } = withdrawalsView(ctx.gateway.lang, withdrawals, deps.config.USDT_DECIMALS);
  const lang = ctx.gateway.lang;
  return { text, keyboard: cancellable.length > 0 ? withdrawalsKeyboard(lang, cancellable) : mainMenu(lang) };
}

export async function showWithdrawals(ctx: BotContext, deps: BotDeps): Promise<void> {
  const user = await currentUserRecord(ctx, deps);
  const { text, keyboard } = await view(ctx, deps, user.id);
  await say(ctx, text, keyboard);
}

/** A cancel button of the list: the ledger returns the hold (or says why it cannot); the list is shown again. */
export async function cancelWithdrawal(ctx: BotContext, deps: BotDeps, withdrawalId: string): Promise<void> {
  const user = await currentUserRecord(ctx, deps);
  const lang = ctx.gateway.lang;
  try {
    const withdrawal = await deps.backend.cancelWithdrawal(user.id, withdrawalId, ctx.gateway.requestId);
    const total = exactAmount(BigInt(withdrawal.amount) + BigInt(withdrawal.fee), deps.config.USDT_DECIMALS);
    ctx.gateway.log.info({ withdrawal_id: withdrawalId }, 'withdrawal cancelled by its user');
    await ctx.answerCbQuery(t(lang, 'withdrawals.cancel_done', { id: withdrawalId, total }), { show_alert: true });
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal?.type === 'WITHDRAWAL_STATE') {
      const status = statusText(lang, String(refusal.data['status']));
      await ctx.answerCbQuery(t(lang, 'withdrawals.cancel_refused', { id: withdrawalId, status }), {
        show_alert: true,
      });
    } else if (refusal?.type === 'WITHDRAWAL_NOT_FOUND') {
      await ctx.answerCbQuery(t(lang, 'withdrawals.not_found'), { show_alert: true });
    } else throw error;
  }
  const { text, keyboard } = await view(ctx, deps, user.id);
  await replaceMessage(ctx, text, keyboard);
}
