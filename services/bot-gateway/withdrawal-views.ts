// The texts of the withdrawal screens (the user's dialog, /withdrawals, the admins' /pending), and what each
// refusal of the ledger or users means to the reader, built from plain data so they can be checked without Telegram.
import { Errors } from 'moleculer';
import {
  WithdrawalStatus,
  type Contact,
  type ResultOf,
  type WithdrawalActions,
  type WithdrawalRecord,
} from '../../lib/contracts';
import { t, type Language } from '../../lib/i18n';
import { displayAmount, formatAmount, fromUnits } from '../../lib/money';

/** The amount as typed, to the last decimal: what the user confirms must be exactly what is sent. */
export const exactAmount = (units: string | bigint, decimals: number): string =>
  formatAmount(fromUnits(units), decimals);

/** "2025-01-02 15:04 UTC": one time for every reader, whatever their clock. */
export function formatUtc(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** How long until `iso`, in whole minutes rounded up (never "0 min" while something still waits). */
export function timeLeft(lang: Language, iso: string, now = Date.now()): string {
  const minutes = Math.max(1, Math.ceil((Date.parse(iso) - now) / 60_000));
  const hours = Math.floor(minutes / 60);
  return hours > 0
    ? t(lang, 'time.hours_minutes', { hours, minutes: minutes % 60 })
    : t(lang, 'time.minutes', { minutes });
}

/** A neighbour's answer that refuses (a 4xx with a type); undefined for a failure (timeouts, nobody there). */
export interface Refusal {
  type: string;
  data: Record<string, unknown>;
}

export function refusalOf(error: unknown): Refusal | undefined {
  if (!(error instanceof Errors.MoleculerError) || error instanceof Errors.MoleculerRetryableError) return undefined;
  if (error.code >= 500 || !error.type) return undefined;
  const data = error.data && typeof error.data === 'object' ? (error.data as Record<string, unknown>) : {};
  return { type: error.type, data };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export interface RefusalAnswer {
  text: string;
  /** The user may fix it by sending another amount; otherwise the dialog ends. */
  askAgain: boolean;
}

/** What a refusal of ledger.quoteWithdrawal / requestWithdrawal tells the user; undefined if it is no such refusal. */
export function withdrawalRefusalAnswer(
  lang: Language,
  refusal: Refusal,
  decimals: number,
  now = Date.now(),
): RefusalAnswer | undefined {
  const units = (name: string) => {
    const value = text(refusal.data[name]);
    return value !== undefined && /^\d+$/.test(value) ? BigInt(value) : undefined;
  };
  const usdt = (value: bigint) => displayAmount(value, decimals);
  /** The text with the amount the refusal names, or its `_unknown` variant when the refusal carries none. */
  const naming = (name: string, key: string) => {
    const value = units(name);
    return value === undefined ? t(lang, `${key}_unknown`) : t(lang, key, { [name]: usdt(value) });
  };
  switch (refusal.type) {
    case 'WITHDRAWAL_BELOW_MINIMUM':
      return { text: naming('minimum', 'withdraw.below_minimum'), askAgain: true };
    case 'INSUFFICIENT_FUNDS':
      return { text: naming('available', 'withdraw.insufficient'), askAgain: true };
    case 'DAILY_LIMIT_USER': {
      const lines = [naming('limit', 'withdraw.daily_limit_user')];
      const limit = units('limit');
      const used = units('used');
      if (limit !== undefined && used !== undefined && limit > used)
        lines.push(t(lang, 'withdraw.daily_limit_left', { left: usdt(limit - used) }));
      return { text: lines.join('\n'), askAgain: true };
    }
    case 'DAILY_LIMIT_GLOBAL':
      return { text: t(lang, 'withdraw.daily_limit_global'), askAgain: false };
    case 'WALLET_COOLDOWN': {
      const until = text(refusal.data['until']);
      if (until === undefined || Number.isNaN(Date.parse(until)))
        return { text: t(lang, 'withdraw.cooldown_unknown'), askAgain: false };
      return {
        text: t(lang, 'withdraw.cooldown', { until: formatUtc(until), left: timeLeft(lang, until, now) }),
        askAgain: false,
      };
    }
    case 'NO_WALLET':
      return { text: t(lang, 'withdraw.no_wallet'), askAgain: false };
    case 'USER_BANNED':
      return { text: t(lang, 'common.banned'), askAgain: false };
    // The amount passed the bot's checks but not the contract's (more than 78 digits of base units).
    case 'VALIDATION_ERROR':
      return { text: t(lang, 'withdraw.amount_format'), askAgain: true };
    default:
      return undefined;
  }
}

export function askAmountText(lang: Language, available: string, destination: string, decimals: number): string {
  return t(lang, 'withdraw.ask_amount', { available: displayAmount(available, decimals), destination });
}

export function confirmationText(
  lang: Language,
  quote: ResultOf<typeof WithdrawalActions.quote>,
  decimals: number,
): string {
  const parts = [
    t(lang, 'withdraw.confirm', {
      amount: exactAmount(quote.amount, decimals),
      fee: exactAmount(quote.fee, decimals),
      total: exactAmount(quote.total, decimals),
      destination: quote.destination,
    }),
  ];
  if (quote.needsApproval) parts.push(t(lang, 'withdraw.confirm_review'));
  return parts.join('\n\n');
}

export function requestedText(lang: Language, withdrawal: WithdrawalRecord, decimals: number): string {
  return t(lang, 'withdraw.requested', {
    id: withdrawal.id,
    amount: exactAmount(withdrawal.amount, decimals),
    destination: withdrawal.destination,
  });
}

/** A withdrawal's status in words; one this bot does not know yet is shown as it is. */
export const statusText = (lang: Language, status: WithdrawalStatus | string): string =>
  WithdrawalStatus.safeParse(status).success ? t(lang, `withdrawal_status.${status}`) : status;

/** The user may take back a withdrawal only while it waits for an admin (ledger.cancelWithdrawal). */
export const isCancellable = (w: WithdrawalRecord): boolean => w.status === 'pending_approval';

/** /withdrawals: the user's recent withdrawals, newest first, and which of them can still be cancelled. */
export function withdrawalsView(
  lang: Language,
  withdrawals: readonly WithdrawalRecord[],
  decimals: number,
): { text: string; cancellable: string[] } {
  if (withdrawals.length === 0) return { text: t(lang, 'withdrawals.none'), cancellable: [] };
  const entries = withdrawals.map((w) => {
    const lines = [
      t(lang, 'withdrawals.line', {
        id: w.id,
        amount: displayAmount(w.amount, decimals),
        status: statusText(lang, w.status),
        date: formatUtc(w.createdAt),
      }),
    ];
    if (w.rejectReason) lines.push(t(lang, 'withdrawals.reason', { reason: w.rejectReason }));
    if (w.txHash) lines.push(t(lang, 'withdrawals.tx', { txHash: w.txHash }));
    return lines.join('\n');
  });
  const cancellable = withdrawals.filter(isCancellable).map((w) => w.id);
  const parts = [t(lang, 'withdrawals.title'), ...entries];
  if (cancellable.length > 0) parts.push(t(lang, 'withdrawals.cancel_hint'));
  return { text: parts.join('\n\n'), cancellable };
}

/** /pending: the withdrawals waiting for an admin, with who asked and where the money would go. */
export function pendingView(
  lang: Language,
  withdrawals: readonly WithdrawalRecord[],
  contacts: readonly Contact[],
  decimals: number,
  limit: number,
): { text: string; ids: string[] } {
  if (withdrawals.length === 0) return { text: t(lang, 'admin.cmd.pending_none'), ids: [] };
  const byUser = new Map(contacts.map((c) => [c.userId, c]));
  const lines = withdrawals.map((w) => {
    const contact = byUser.get(w.userId);
    return t(lang, 'admin.cmd.pending_line', {
      id: w.id,
      amount: exactAmount(w.amount, decimals),
      fee: exactAmount(w.fee, decimals),
      date: formatUtc(w.createdAt),
      userId: w.userId,
      name: contact?.firstName || '—',
      telegramId: contact?.telegramId ?? '—',
      destination: w.destination,
    });
  });
  const parts = [t(lang, 'admin.cmd.pending_title', { count: withdrawals.length }), ...lines];
  if (withdrawals.length >= limit) parts.push(t(lang, 'admin.cmd.pending_truncated', { count: limit }));
  return { text: parts.join('\n\n'), ids: withdrawals.map((w) => w.id) };
}

/** /help, with the admin commands for admins only. */
export function helpText(lang: Language, isAdmin: boolean): string {
  const help = t(lang, 'help.text');
  if (!isAdmin) return help;
  return [`${help}\n`, t(lang, 'admin.cmd.help'), t(lang, 'admin.user.help'), t(lang, 'broadcast.admin.help')].join(
    '\n',
  );
}
