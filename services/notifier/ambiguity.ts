// What to do with an attempt whose outcome nobody knows: it was recorded, then the sender died before it could
// record whether Telegram took the message. Sending again risks a duplicate; not sending risks a loss.

export type AmbiguityRule = 'resend' | 'skip';

/**
 * Informational messages: a duplicate confuses more than a missing one, and the next message supersedes them (a
 * credit follows "we see your deposit"; "confirmed", with the same link, follows "sent"; a payout's next step follows
 * "retrying").
 */
const SKIP_WHEN_AMBIGUOUS = new Set(['deposit.detected', 'withdrawal.sent', 'withdrawal.retrying']);

/** Credit notices, commissions and admin alerts are promises about money: resent, at the risk of a duplicate. */
export function ambiguityRule(template: string): AmbiguityRule {
  return SKIP_WHEN_AMBIGUOUS.has(template) ? 'skip' : 'resend';
}
