// The texts of each screen, built from plain data so they can be checked without Telegram.
import type { ChainActions, LedgerActions, ReferralOutcome, ResultOf } from '../../lib/contracts';
import { t, trustedHtml, type Language } from '../../lib/i18n';
import { displayAmount, fromUnits } from '../../lib/money';

export function startText(
  lang: Language,
  name: string,
  registration: { created: boolean; referral: ReferralOutcome },
  referralCodeGiven: boolean,
): string {
  const parts = [t(lang, registration.created ? 'start.welcome_new' : 'start.welcome_back', { name })];
  if (referralCodeGiven) {
    const key = referralNoteKey(registration.created, registration.referral);
    if (key) parts.push(t(lang, key));
  }
  return parts.join('\n\n');
}

function referralNoteKey(created: boolean, referral: ReferralOutcome): string | undefined {
  switch (referral) {
    case 'linked':
      return 'start.referral_linked';
    case 'self':
      return 'start.referral_self';
    case 'unknown':
      return 'start.referral_unknown';
    case 'cycle':
      return 'start.referral_cycle';
    case 'none':
      return created ? undefined : 'start.referral_already_registered';
  }
}

/** The deposit screen, from chain-monitor's terms and the ledger's levels (each service owns its rules). */
export function depositText(
  lang: Language,
  terms: ResultOf<typeof ChainActions.depositTerms>,
  levels: ResultOf<typeof LedgerActions.depositLevels>,
  decimals: number,
  fromWallet: string,
): string {
  const lines = levels
    .map(({ level, minimum }) => t(lang, 'deposit.level_line', { level, amount: displayAmount(minimum, decimals) }))
    .join('\n');
  const confirmations = terms.useFinalized
    ? t(lang, 'deposit.confirmations_finalized')
    : t(lang, 'deposit.confirmations_blocks', { count: terms.confirmations });
  return t(lang, 'deposit.instructions', {
    fromWallet,
    systemWallet: terms.systemWallet,
    levels: trustedHtml(lines),
    confirmations: trustedHtml(confirmations),
  });
}

export function balanceText(lang: Language, balance: { available: string; held: string }, decimals: number): string {
  return t(lang, 'balance.text', {
    available: displayAmount(balance.available, decimals),
    held: displayAmount(balance.held, decimals),
  });
}

export function referralLink(botUsername: string, code: string): string {
  return `https://t.me/${botUsername}?start=${code}`;
}

export function referralsText(
  lang: Language,
  link: string,
  counts: readonly { level: number; count: number }[],
  earnings: readonly { level: number; amount: string }[] | undefined,
  decimals: number,
): string {
  const earned = new Map((earnings ?? []).map((e) => [e.level, fromUnits(e.amount)]));
  const lines = counts.map(({ level, count }) =>
    t(lang, 'referrals.line', {
      level,
      count,
      amount: earnings ? displayAmount(earned.get(level) ?? 0n, decimals) : '?',
    }),
  );
  if (!earnings) lines.push(t(lang, 'referrals.earnings_unavailable'));
  return t(lang, 'referrals.text', { link, lines: trustedHtml(lines.join('\n')) });
}
