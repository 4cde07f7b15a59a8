// What the middleware chain leaves on ctx.state for the handlers after it, reachable typed as ctx.gateway
// (telegraf's narrowed contexts type `state` as a plain record, but keep properties a custom context adds).
import { Context } from 'telegraf';
import type { MessageContent } from '../../lib/contracts';
import type { Language } from '../../lib/i18n';
import type { Logger } from '../../lib/logger';

/** What the next plain text message is taken as. */
export type DialogStep =
  | 'wallet'
  | 'withdraw_amount'
  | 'withdraw_new_password'
  | 'withdraw_repeat_password'
  | 'withdraw_password'
  | 'reject_reason'
  | 'broadcast';

/** One withdrawal dialog, from /withdraw to its confirmation. */
export interface WithdrawalDialog {
  /** Made when the dialog starts; the ledger's idempotency key, so repeated confirmations request one withdrawal. */
  id: string;
  /** Base units, once the ledger accepted the amount. */
  amount?: string;
  /** The financial password was given (or set) in this dialog. */
  verified?: boolean;
  /** A new password's salted digest while the user types it again (never the password itself). */
  newPassword?: { salt: string; digest: string };
  /** The withdrawal its confirmation requested (a later Cancel must not pretend nothing happened). */
  withdrawalId?: string;
}

/** Where an admin's broadcast dialog is (handlers/broadcast.ts): what the next message or button is taken as. */
export type BroadcastStep = 'content' | 'buttons' | 'audience' | 'confirm';

/** One broadcast being composed, from /broadcast to Send. */
export interface BroadcastDialog {
  /** Made when the dialog starts; buttons carry it, so a button of an older dialog is recognised as stale. */
  id: string;
  step: BroadcastStep;
  /** /broadcast paid: sent with allow_paid_broadcast. */
  paid?: boolean;
  content?: MessageContent;
  /** The broadcaster's draft, once the audience is chosen, and its recipients as the preview counted them. */
  campaignId?: string;
  recipients?: number;
}

export interface Session {
  awaiting?: DialogStep;
  withdrawal?: WithdrawalDialog;
  /** The withdrawal an admin is typing a rejection reason for. */
  rejecting?: string;
  broadcast?: BroadcastDialog;
}

export interface GatewayState {
  requestId: string;
  /** Carries request_id (and user_id once known) on every line. */
  log: Logger;
  lang: Language;
  session: Session;
  /** The sender is in ADMIN_TELEGRAM_IDS. */
  isAdmin: boolean;
}

export class BotContext extends Context {
  get gateway(): GatewayState {
    return this.state as GatewayState;
  }
}
