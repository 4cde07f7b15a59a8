// What the payout service announces through its outbox: completions to the ledger, progress to the user, trouble to
// the admins. Ids make every message idempotent downstream.
import {
  NotifierChannels,
  outboxMessage,
  PayoutChannels,
  type NotificationRequestOf,
  type OutboxMessage,
  type Template,
  type TemplateParams,
} from '../../lib/contracts';

export interface PayoutRef {
  withdrawalId: string;
  userId: string;
  amount: string;
  destination: string;
}

function notify<T extends Template>(id: string, userId: string, template: T, params: TemplateParams<T>): OutboxMessage {
  const request: NotificationRequestOf<T> = { id, userId, template, params };
  return outboxMessage(NotifierChannels.notificationRequested, request);
}

const base = (p: PayoutRef) => ({ withdrawalId: p.withdrawalId, amount: p.amount });

export const payoutMessages = {
  simulated: (p: PayoutRef): OutboxMessage[] => [
    outboxMessage(PayoutChannels.payoutCompleted, {
      id: `payout-simulated:${p.withdrawalId}`,
      withdrawalId: p.withdrawalId,
      outcome: 'simulated',
    }),
  ],
  sent: (p: PayoutRef, txHash: string): OutboxMessage[] => [
    notify(`withdrawal-sent:${p.withdrawalId}`, p.userId, 'withdrawal.sent', { ...base(p), txHash }),
  ],
  paid: (p: PayoutRef, txHash: string, blockNumber: bigint): OutboxMessage[] => [
    outboxMessage(PayoutChannels.payoutCompleted, {
      id: `payout-paid:${p.withdrawalId}`,
      withdrawalId: p.withdrawalId,
      outcome: 'paid',
      txHash,
      blockNumber: blockNumber.toString(),
    }),
  ],
  retrying: (p: PayoutRef, attempt: number): OutboxMessage[] => [
    notify(`withdrawal-retrying:${p.withdrawalId}:${attempt}`, p.userId, 'withdrawal.retrying', {
      ...base(p),
      attempt,
    }),
  ],
  /** `at`: each death is its own alert (an admin retry that dies again must be heard of again). */
  dead: (p: PayoutRef, error: string, at: number): OutboxMessage[] => [
    notify(`withdrawal-delayed:${p.withdrawalId}:${at}`, p.userId, 'withdrawal.delayed', base(p)),
    outboxMessage(NotifierChannels.adminAlert, {
      id: `payout-dead:${p.withdrawalId}:${at}`,
      template: 'admin.payout_dead',
      params: { ...base(p), userId: p.userId, error: error.slice(0, 500) },
    }),
  ],
  review: (p: PayoutRef, reason: string): OutboxMessage[] => [
    outboxMessage(NotifierChannels.adminAlert, {
      id: `payout-review:${p.withdrawalId}`,
      template: 'admin.payout_review',
      params: { ...base(p), userId: p.userId, reason },
    }),
  ],
  walletLow: (asset: 'USDT' | 'BNB', balance: string, threshold: string, hour: string): OutboxMessage[] => [
    outboxMessage(NotifierChannels.adminAlert, {
      id: `hot-wallet-low:${asset}:${hour}`,
      template: 'admin.hot_wallet_low',
      params: { asset, balance, threshold },
    }),
  ],
};
