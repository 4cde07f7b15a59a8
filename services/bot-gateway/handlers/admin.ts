// The admins' withdrawal commands (ADMIN_TELEGRAM_IDS only; bot.ts answers anyone else as if they did not exist):
// /pending with Approve / Reject buttons, /approve, /reject, /void and /retry. Answers are in the admin's language.
import type { WithdrawalRecord } from '../../../lib/contracts';
import { t } from '../../../lib/i18n';
import type { BotContext } from '../context';
import { mainMenu, pendingKeyboard, rejectPrompt } from '../keyboards';
import { exactAmount, pendingView, refusalOf, statusText } from '../withdrawal-views';
import { replaceMessage, say, type BotDeps } from './common';

export const PENDING_SHOWN = 20;
/** The ledger's limit on a reason (lib/contracts/ledger.ts). */
const MAX_REASON = 500;

const admin = (ctx: BotContext) => String(ctx.from!.id);

async function pending(ctx: BotContext, deps: BotDeps) {
  const requestId = ctx.gateway.requestId;
  const withdrawals = await deps.backend.withdrawals({ status: 'pending_approval', limit: PENDING_SHOWN }, requestId);
  const userIds = [...new Set(withdrawals.map((w) => w.userId))];
  const contacts = userIds.length > 0 ? await deps.backend.contacts(userIds, requestId) : [];
  const lang = ctx.gateway.lang;
  const { text, ids } = pendingView(lang, withdrawals, contacts, deps.config.USDT_DECIMALS, PENDING_SHOWN);
  return { text, keyboard: ids.length > 0 ? pendingKeyboard(lang, ids) : undefined };
}

export async function showPending(ctx: BotContext, deps: BotDeps): Promise<void> {
  const { text, keyboard } = await pending(ctx, deps);
  await say(ctx, text, keyboard);
}

/** Runs one decision and says how it went: done, or why not (no such withdrawal, not in a state for it, …). */
async function decide(
  ctx: BotContext,
  deps: BotDeps,
  withdrawalId: string,
  action: () => Promise<{ amount: string; status?: string }>,
  doneKey: string,
  extra: Record<string, string> = {},
): Promise<void> {
  const lang = ctx.gateway.lang;
  let done: { amount: string; status?: string };
  try {
    done = await action();
  } catch (error) {
    const refusal = refusalOf(error);
    if (!refusal) throw error;
    ctx.gateway.log.info({ withdrawal_id: withdrawalId, refusal: refusal.type }, 'admin decision refused');
    const answer =
      refusal.type === 'WITHDRAWAL_NOT_FOUND' || refusal.type === 'PAYOUT_NOT_FOUND'
        ? t(lang, 'admin.cmd.not_found', { id: withdrawalId })
        : refusal.type === 'WITHDRAWAL_STATE'
          ? t(lang, 'admin.cmd.wrong_state', {
              id: withdrawalId,
              status: statusText(lang, String(refusal.data['status'])),
            })
          : t(lang, 'admin.cmd.refused', { reason: (error as Error).message });
    await say(ctx, answer);
    return;
  }
  ctx.gateway.log.warn({ withdrawal_id: withdrawalId, decision: doneKey }, 'admin decision');
  const amount = exactAmount(done.amount, deps.config.USDT_DECIMALS);
  await say(ctx, t(lang, doneKey, { id: withdrawalId, amount, status: done.status ?? '', ...extra }));
}

const approve = (ctx: BotContext, deps: BotDeps, id: string) =>
  decide(
    ctx,
    deps,
    id,
    () => deps.backend.approveWithdrawal(id, admin(ctx), ctx.gateway.requestId),
    'admin.cmd.approved',
  );

const reject = (ctx: BotContext, deps: BotDeps, id: string, reason: string) =>
  decide(
    ctx,
    deps,
    id,
    () => deps.backend.rejectWithdrawal(id, admin(ctx), reason, ctx.gateway.requestId),
    'admin.cmd.rejected',
    { reason },
  );

/** `<id>` or `<id> <reason>` after a command; undefined when it is not that shape. */
function parseArguments(payload: string, withReason: boolean): { id: string; reason: string } | undefined {
  const match = /^(\d{1,19})(?:\s+([\s\S]+))?$/.exec(payload.trim());
  if (!match) return undefined;
  const reason = (match[2] ?? '').trim();
  if (withReason ? reason === '' : reason !== '') return undefined;
  return { id: match[1]!, reason };
}

async function withArguments(
  ctx: BotContext,
  payload: string,
  usageKey: string,
  withReason: boolean,
  run: (id: string, reason: string) => Promise<unknown>,
): Promise<void> {
  const args = parseArguments(payload, withReason);
  if (!args) return say(ctx, t(ctx.gateway.lang, usageKey));
  if (args.reason.length > MAX_REASON) return say(ctx, t(ctx.gateway.lang, 'admin.cmd.reason_too_long'));
  await run(args.id, args.reason);
}

export const approveCommand = (ctx: BotContext, deps: BotDeps, payload: string) =>
  withArguments(ctx, payload, 'admin.cmd.usage_approve', false, (id) => approve(ctx, deps, id));

export const rejectCommand = (ctx: BotContext, deps: BotDeps, payload: string) =>
  withArguments(ctx, payload, 'admin.cmd.usage_reject', true, (id, reason) => reject(ctx, deps, id, reason));

export const voidCommand = (ctx: BotContext, deps: BotDeps, payload: string) =>
  withArguments(ctx, payload, 'admin.cmd.usage_void', true, (id, reason) =>
    decide(
      ctx,
      deps,
      id,
      () => deps.backend.voidWithdrawal(id, admin(ctx), reason, ctx.gateway.requestId),
      'admin.cmd.voided',
      { reason },
    ),
  );

export const retryCommand = (ctx: BotContext, deps: BotDeps, payload: string) =>
  withArguments(ctx, payload, 'admin.cmd.usage_retry', false, (id) =>
    decide(ctx, deps, id, () => deps.backend.retryPayout(id, admin(ctx), ctx.gateway.requestId), 'admin.cmd.retried'),
  );

/** Approve under /pending: decided, then the list under the button is shown as it is now. */
export async function approveButton(ctx: BotContext, deps: BotDeps, id: string): Promise<void> {
  await ctx.answerCbQuery();
  await approve(ctx, deps, id);
  const { text, keyboard } = await pending(ctx, deps);
  await replaceMessage(ctx, text, keyboard);
}

/** Reject under /pending: the next message is the reason (the user will read it). */
export async function rejectButton(ctx: BotContext, deps: BotDeps, id: string): Promise<void> {
  await ctx.answerCbQuery();
  const lang = ctx.gateway.lang;
  const withdrawal: WithdrawalRecord | null = await deps.backend.withdrawal(id, ctx.gateway.requestId);
  if (!withdrawal) return say(ctx, t(lang, 'admin.cmd.not_found', { id }));
  if (withdrawal.status !== 'pending_approval')
    return say(ctx, t(lang, 'admin.cmd.wrong_state', { id, status: statusText(lang, withdrawal.status) }));
  ctx.gateway.session.awaiting = 'reject_reason';
  ctx.gateway.session.rejecting = id;
  const amount = exactAmount(withdrawal.amount, deps.config.USDT_DECIMALS);
  await say(ctx, t(lang, 'admin.cmd.ask_reason', { id, amount }), rejectPrompt(lang, id));
}

export async function takeRejectReason(ctx: BotContext, deps: BotDeps, text: string): Promise<void> {
  const id = ctx.gateway.session.rejecting;
  const reason = text.trim();
  if (!id) {
    ctx.gateway.session.awaiting = undefined;
    return say(ctx, t(ctx.gateway.lang, 'common.unknown_text'), mainMenu(ctx.gateway.lang));
  }
  if (reason.length > MAX_REASON) return say(ctx, t(ctx.gateway.lang, 'admin.cmd.reason_too_long'));
  ctx.gateway.session.awaiting = undefined;
  ctx.gateway.session.rejecting = undefined;
  await reject(ctx, deps, id, reason);
}

/** Cancel under the reason prompt: nothing is rejected. */
export async function keepButton(ctx: BotContext, id: string): Promise<void> {
  await ctx.answerCbQuery();
  if (ctx.gateway.session.rejecting === id) {
    ctx.gateway.session.awaiting = undefined;
    ctx.gateway.session.rejecting = undefined;
  }
  await replaceMessage(ctx, t(ctx.gateway.lang, 'admin.cmd.reject_kept', { id }));
}
