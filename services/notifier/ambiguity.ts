// What to do with an attempt whose outcome nobody knows: it was recorded, then the sender died (or the request timed
// out after it left) before anyone learnt whether Telegram took the message. Sending again risks a duplicate; not
// sending risks a loss. The policy per kind of message (docs/notifier.md):
// - transactional (deposits credited, withdrawals, commissions, rewards, support, admin alerts): `resend` — a
//   duplicate is better than a missing promise about money;
// - informational (a deposit seen, a payout sent or retrying: the next message supersedes them) and broadcast-like
//   content: `skip` — a duplicate confuses more than a missing one; the attempt is recorded 'ambiguous'.
// A content request says which it is (`ambiguity`, default `resend`); a template's rule is fixed here.
import { isTemplateRequest, type AmbiguityRule, type NotificationRequest } from '../../lib/contracts';

export type { AmbiguityRule } from '../../lib/contracts';

/**
 * Informational templates: a credit follows "we see your deposit"; "confirmed", with the same link, follows "sent"; a
 * payout's next step follows "retrying".
 */
const SKIP_WHEN_AMBIGUOUS = new Set(['deposit.detected', 'withdrawal.sent', 'withdrawal.retrying']);

export function ambiguityRule(request: NotificationRequest): AmbiguityRule {
  if (!isTemplateRequest(request)) return request.ambiguity;
  return SKIP_WHEN_AMBIGUOUS.has(request.template) ? 'skip' : 'resend';
}
