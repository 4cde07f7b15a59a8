import { Channels } from '../../lib/channels';
import { toUnits } from '../../lib/money';
import type { OutboxMessage } from '../../lib/outbox';
import type { ObservedTransfer } from './store';

export const transferKey = (chainId: number, t: Pick<ObservedTransfer, 'txHash' | 'logIndex'>) =>
  `${chainId}:${t.txHash}:${t.logIndex}`;

/**
 * "We see your deposit": sent once per transfer the first time a registered wallet's transfer is seen; not for a
 * copy of a transfer confirmed before (a transaction mined again after a deep reorg), which is no new money.
 */
export function detectedMessages(chainId: number, confirmations: number, fresh: ObservedTransfer[]): OutboxMessage[] {
  return fresh
    .filter((t) => t.userId !== null && !t.remined)
    .map((t) => ({
      channel: Channels.notificationRequested,
      payload: {
        id: `deposit-detected:${transferKey(chainId, t)}`,
        userId: t.userId,
        template: 'deposit.detected',
        params: { amount: toUnits(t.amount), txHash: t.txHash, confirmations },
      },
    }));
}

const chainFact = (chainId: number, t: ObservedTransfer) => ({
  chainId,
  txHash: t.txHash,
  logIndex: t.logIndex,
  blockNumber: t.blockNumber.toString(),
  blockHash: t.blockHash,
  fromAddress: t.from,
  userId: t.userId,
  amount: toUnits(t.amount),
  revision: t.revision ?? 1,
});

/**
 * Tells the ledger a matched transfer reached its confirmations, or is on the chain again after it was reorged
 * out. The revision is part of the id: a later fact about one transfer must not be taken for a duplicate.
 */
export function confirmedMessages(chainId: number, matched: ObservedTransfer[]): OutboxMessage[] {
  return matched.map((t) => ({
    channel: Channels.depositConfirmed,
    payload: { id: `deposit-confirmed:${transferKey(chainId, t)}:r${t.revision ?? 1}`, ...chainFact(chainId, t) },
  }));
}

/** Tells the ledger a confirmed, matched transfer's block left the canonical chain. */
export function reorgedMessages(chainId: number, matched: ObservedTransfer[]): OutboxMessage[] {
  return matched.map((t) => ({
    channel: Channels.depositReorged,
    payload: { id: `deposit-reorged:${transferKey(chainId, t)}:r${t.revision ?? 1}`, ...chainFact(chainId, t) },
  }));
}
