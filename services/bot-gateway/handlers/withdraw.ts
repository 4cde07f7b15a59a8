// /withdraw [amount]: the amount (checked by the ledger's quote) → the financial password (set on first use) → a
// confirmation with amount, fee, total and destination → one withdrawal per dialog, however often it is confirmed:
// the dialog's id is the ledger's idempotency key. The destination is always the user's registered wallet.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Message } from 'telegraf/types';
import type { UserRecord } from '../../../lib/contracts';
import { t } from '../../../lib/i18n';
import { parseWithdrawalAmount, type AmountProblem } from '../amount';
import type { BotContext, WithdrawalDialog } from '../context';
import { mainMenu, walletButton, withdrawConfirmation, withdrawPrompt } from '../keyboards';
import {
  askAmountText,
  confirmationText,
  exactAmount,
  formatUtc,
  refusalOf,
  requestedText,
  timeLeft,
  withdrawalRefusalAnswer,
} from '../withdrawal-views';
import { currentUserRecord, removeButtons, replaceMessage, say, type BotDeps } from './common';

/** 12 random bytes, 16 characters of base64url (keyboards.ts DIALOG_ID). */
export const newDialogId = (): string => randomBytes(12).toString('base64url');

const AMOUNT_PROBLEMS: Record<AmountProblem, string> = {
  format: 'withdraw.amount_format',
  comma: 'withdraw.amount_comma',
  decimals: 'withdraw.amount_decimals',
  zero: 'withdraw.amount_zero',
};

function endDialog(ctx: BotContext): void {
  ctx.gateway.session.awaiting = undefined;
  ctx.gateway.session.withdrawal = undefined;
}

/** Starts a new dialog (replacing any earlier one); with an amount it goes straight to checking it. */
export async function startWithdrawal(ctx: BotContext, deps: BotDeps, amountText: string): Promise<void> {
  endDialog(ctx);
  const user = await currentUserRecord(ctx, deps);
  const lang = ctx.gateway.lang;
  if (!user.walletAddress) {
    await say(ctx, t(lang, 'withdraw.no_wallet'), walletButton(lang));
    return;
  }
  const dialog: WithdrawalDialog = { id: newDialogId() };
  ctx.gateway.session.withdrawal = dialog;
  ctx.gateway.log.info({ dialog: dialog.id }, 'withdrawal dialog started');
  if (amountText.trim()) return takeAmount(ctx, deps, amountText, user);
  const balance = await deps.backend.balance(user.id, ctx.gateway.requestId);
  ctx.gateway.session.awaiting = 'withdraw_amount';
  await say(
    ctx,
    askAmountText(lang, balance.available, user.walletAddress, deps.config.USDT_DECIMALS),
    withdrawPrompt(lang, dialog.id),
  );
}

/** The amount the user typed: refused with the reason (the dialog keeps waiting), or on to the password. */
export async function takeAmount(ctx: BotContext, deps: BotDeps, text: string, known?: UserRecord): Promise<void> {
  const lang = ctx.gateway.lang;
  const dialog = ctx.gateway.session.withdrawal;
  if (!dialog) {
    ctx.gateway.session.awaiting = undefined;
    await say(ctx, t(lang, 'common.unknown_text'), mainMenu(lang));
    return;
  }
  const decimals = deps.config.USDT_DECIMALS;
  const parsed = parseWithdrawalAmount(text, decimals);
  if (!parsed.ok) {
    ctx.gateway.session.awaiting = 'withdraw_amount';
    await say(ctx, t(lang, AMOUNT_PROBLEMS[parsed.problem], { decimals }), withdrawPrompt(lang, dialog.id));
    return;
  }
  const user = known ?? (await currentUserRecord(ctx, deps));
  if (!(await quoteOrRefuse(ctx, deps, user, dialog, parsed.units.toString()))) return;
  dialog.amount = parsed.units.toString();
  if (dialog.verified) return showConfirmation(ctx, deps, user, dialog);
  const amount = exactAmount(dialog.amount, decimals);
  if (user.hasWithdrawalPassword) {
    ctx.gateway.session.awaiting = 'withdraw_password';
    await say(ctx, t(lang, 'withdraw.password_ask', { amount }), withdrawPrompt(lang, dialog.id));
  } else {
    ctx.gateway.session.awaiting = 'withdraw_new_password';
    await say(ctx, t(lang, 'withdraw.password_new'), withdrawPrompt(lang, dialog.id));
  }
}

/** The ledger's quote, or undefined after telling the user why not (and what they may do next). */
async function quoteOrRefuse(
  ctx: BotContext,
  deps: BotDeps,
  user: UserRecord,
  dialog: WithdrawalDialog,
  amount: string,
) {
  try {
    return await deps.backend.quoteWithdrawal(user.id, amount, ctx.gateway.requestId);
  } catch (error) {
    await tellRefusal(ctx, deps, dialog, error);
    return undefined;
  }
}

/** Says what a refusal of the ledger means; rethrows anything that is not one (the bot's error handler answers). */
async function tellRefusal(ctx: BotContext, deps: BotDeps, dialog: WithdrawalDialog, error: unknown): Promise<void> {
  const lang = ctx.gateway.lang;
  const refusal = refusalOf(error);
  const answer = refusal && withdrawalRefusalAnswer(lang, refusal, deps.config.USDT_DECIMALS);
  if (!refusal || !answer) throw error;
  ctx.gateway.log.info({ refusal: refusal.type, dialog: dialog.id }, 'withdrawal refused');
  if (answer.askAgain) {
    ctx.gateway.session.awaiting = 'withdraw_amount';
    await say(ctx, answer.text, withdrawPrompt(lang, dialog.id));
    return;
  }
  endDialog(ctx);
  await say(ctx, answer.text, refusal.type === 'NO_WALLET' ? walletButton(lang) : mainMenu(lang));
}

/** Whether the session's dialog is the one a button was made for. */
function currentDialog(ctx: BotContext, dialogId: string): WithdrawalDialog | undefined {
  const dialog = ctx.gateway.session.withdrawal;
  return dialog && dialog.id === dialogId ? dialog : undefined;
}

// ---- The financial password ---------------------------------------------------------------------------------

/** Only to compare the repeated new password with the first one; the salt makes it useless anywhere else. */
const digestOf = (salt: string, password: string) => createHmac('sha256', salt).update(password).digest('base64url');

const sameDigest = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * A message sent while a password is awaited: deleted from the chat first, whatever it holds, then taken as the
 * password (a new one, its repetition, or the one that confirms this withdrawal).
 */
export async function takePassword(ctx: BotContext, deps: BotDeps, message: Message.TextMessage): Promise<void> {
  try {
    await ctx.deleteMessage(message.message_id);
  } catch (error) {
    ctx.gateway.log.warn({ err: error }, 'could not delete a financial password from the chat');
  }
  const lang = ctx.gateway.lang;
  const dialog = ctx.gateway.session.withdrawal;
  if (!dialog?.amount) {
    endDialog(ctx);
    await say(ctx, t(lang, 'withdraw.expired'), mainMenu(lang));
    return;
  }
  const password = message.text;
  switch (ctx.gateway.session.awaiting) {
    case 'withdraw_new_password': {
      const salt = randomBytes(16).toString('base64url');
      dialog.newPassword = { salt, digest: digestOf(salt, password) };
      ctx.gateway.session.awaiting = 'withdraw_repeat_password';
      await say(ctx, t(lang, 'withdraw.password_repeat'), withdrawPrompt(lang, dialog.id));
      return;
    }
    case 'withdraw_repeat_password':
      return setPassword(ctx, deps, dialog, password);
    case 'withdraw_password':
      return checkPassword(ctx, deps, dialog, password);
  }
}

async function askNewPassword(ctx: BotContext, dialog: WithdrawalDialog, key: string): Promise<void> {
  dialog.newPassword = undefined;
  ctx.gateway.session.awaiting = 'withdraw_new_password';
  await say(ctx, t(ctx.gateway.lang, key), withdrawPrompt(ctx.gateway.lang, dialog.id));
}

async function setPassword(ctx: BotContext, deps: BotDeps, dialog: WithdrawalDialog, password: string) {
  const lang = ctx.gateway.lang;
  const first = dialog.newPassword;
  if (!first || !sameDigest(first.digest, digestOf(first.salt, password)))
    return askNewPassword(ctx, dialog, 'withdraw.password_mismatch');
  const user = await currentUserRecord(ctx, deps);
  try {
    await deps.backend.setWithdrawalPassword(user.id, password, ctx.gateway.requestId);
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal?.type === 'PASSWORD_WEAK') {
      const weakness = String(refusal.data['weakness'] ?? 'length');
      return askNewPassword(ctx, dialog, `withdraw.password_weak.${weakness}`);
    }
    // Longer than any password the rules allow (the contract's limit).
    if (refusal?.type === 'VALIDATION_ERROR') return askNewPassword(ctx, dialog, 'withdraw.password_weak.length');
    if (refusal?.type === 'PASSWORD_ALREADY_SET') {
      // Set meanwhile (another dialog): this withdrawal is confirmed with it like any other.
      dialog.newPassword = undefined;
      ctx.gateway.session.awaiting = 'withdraw_password';
      const amount = exactAmount(dialog.amount!, deps.config.USDT_DECIMALS);
      await say(ctx, t(lang, 'withdraw.password_ask', { amount }), withdrawPrompt(lang, dialog.id));
      return;
    }
    throw error;
  }
  ctx.gateway.log.info({ dialog: dialog.id }, 'financial password set');
  dialog.newPassword = undefined;
  dialog.verified = true;
  await say(ctx, t(lang, 'withdraw.password_set'));
  await showConfirmation(ctx, deps, user, dialog);
}

async function checkPassword(ctx: BotContext, deps: BotDeps, dialog: WithdrawalDialog, password: string) {
  const lang = ctx.gateway.lang;
  const user = await currentUserRecord(ctx, deps);
  try {
    await deps.backend.checkWithdrawalPassword(user.id, password, ctx.gateway.requestId);
  } catch (error) {
    const refusal = refusalOf(error);
    switch (refusal?.type) {
      case 'PASSWORD_WRONG':
        ctx.gateway.log.info({ dialog: dialog.id }, 'wrong financial password');
        await say(
          ctx,
          t(lang, 'withdraw.password_wrong', { attempts: Number(refusal.data['attemptsLeft'] ?? 0) }),
          withdrawPrompt(lang, dialog.id),
        );
        return;
      case 'PASSWORD_LOCKED': {
        ctx.gateway.log.info({ dialog: dialog.id }, 'financial password locked');
        endDialog(ctx);
        const until = String(refusal.data['until'] ?? '');
        await say(
          ctx,
          Number.isNaN(Date.parse(until))
            ? t(lang, 'withdraw.password_locked_unknown')
            : t(lang, 'withdraw.password_locked', { until: formatUtc(until), left: timeLeft(lang, until) }),
          mainMenu(lang),
        );
        return;
      }
      case 'NO_PASSWORD':
        return askNewPassword(ctx, dialog, 'withdraw.password_new');
      case 'VALIDATION_ERROR':
        await say(ctx, t(lang, 'withdraw.password_wrong_shape'), withdrawPrompt(lang, dialog.id));
        return;
      default:
        throw error;
    }
  }
  dialog.verified = true;
  await showConfirmation(ctx, deps, user, dialog);
}

// ---- Confirmation ---------------------------------------------------------------------------------------------

/** Quotes again (the balance, the wallet or the limits may have changed meanwhile) and asks to confirm. */
async function showConfirmation(ctx: BotContext, deps: BotDeps, user: UserRecord, dialog: WithdrawalDialog) {
  const quote = await quoteOrRefuse(ctx, deps, user, dialog, dialog.amount!);
  if (!quote) return;
  ctx.gateway.session.awaiting = undefined;
  const lang = ctx.gateway.lang;
  await say(ctx, confirmationText(lang, quote, deps.config.USDT_DECIMALS), withdrawConfirmation(lang, dialog.id));
}

/**
 * Confirm: requests the withdrawal under the dialog's key. A double tap or a repeated confirmation gets the same
 * withdrawal from the ledger; a button of another (older, expired) dialog does nothing.
 */
export async function confirmWithdrawal(ctx: BotContext, deps: BotDeps, dialogId: string): Promise<void> {
  const lang = ctx.gateway.lang;
  const dialog = currentDialog(ctx, dialogId);
  if (!dialog?.verified || !dialog.amount) {
    ctx.gateway.log.info({ dialog: dialogId }, 'stale withdrawal confirmation');
    await ctx.answerCbQuery(t(lang, 'withdraw.stale'), { show_alert: true });
    return;
  }
  if ((await deps.settleDialog(ctx.from!.id, dialog.id, 'confirmed')) === 'cancelled') {
    await ctx.answerCbQuery(t(lang, 'withdraw.stale'), { show_alert: true });
    return;
  }
  const user = await currentUserRecord(ctx, deps);
  let result;
  try {
    result = await deps.backend.requestWithdrawal(user.id, dialog.amount, dialog.id, ctx.gateway.requestId);
  } catch (error) {
    // Refused, so nothing was requested: what follows is a new dialog with a key (and an outcome) of its own. Any
    // other failure keeps this one (the session is not saved), so pressing Confirm again asks for the same withdrawal.
    const next: WithdrawalDialog = { id: newDialogId(), ...(dialog.verified ? { verified: true } : {}) };
    ctx.gateway.session.withdrawal = next;
    await tellRefusal(ctx, deps, next, error);
    await ctx.answerCbQuery();
    await removeButtons(ctx);
    return;
  }
  const { withdrawal, created } = result;
  dialog.withdrawalId = withdrawal.id;
  ctx.gateway.log.info({ dialog: dialog.id, withdrawal_id: withdrawal.id, created }, 'withdrawal confirmed');
  await ctx.answerCbQuery(created ? undefined : t(lang, 'withdraw.requested_again', { id: withdrawal.id }));
  await replaceMessage(ctx, requestedText(lang, withdrawal, deps.config.USDT_DECIMALS));
}

/** Cancel (under any step of the dialog): ends it, unless it was confirmed first. */
export async function cancelDialog(ctx: BotContext, deps: BotDeps, dialogId: string): Promise<void> {
  const lang = ctx.gateway.lang;
  const dialog = currentDialog(ctx, dialogId);
  if (!dialog) {
    await ctx.answerCbQuery(t(lang, 'withdraw.stale'), { show_alert: true });
    return;
  }
  if ((await deps.settleDialog(ctx.from!.id, dialog.id, 'cancelled')) === 'confirmed') {
    const text = dialog.withdrawalId
      ? t(lang, 'withdraw.already_requested', { id: dialog.withdrawalId })
      : t(lang, 'withdraw.being_requested');
    await ctx.answerCbQuery(text, { show_alert: true });
    return;
  }
  endDialog(ctx);
  await ctx.answerCbQuery();
  await removeButtons(ctx);
  await say(ctx, t(lang, 'withdraw.cancelled'), mainMenu(lang));
}
