// What chain-monitor announces, built through the contracts of the channels they travel on.
import {
  ChainChannels,
  NotifierChannels,
  outboxMessage,
  type NotificationRequestOf,
  type OutboxMessage,
} from '../../lib/contracts';
import { toUnits } from '../../lib/money';
import type { ObservedTransfer } from './store';

export const transferKey = (chainId: number, t: Pick<ObservedTransfer, 'txHash' | 'logIndex'>) =>
  `${chainId}:${t.txHash}:${t.logIndex}`;

type Matched = ObservedTransfer & { userId: string };
const matched = (transfers: ObservedTransfer[]): Matched[] => transfers.filter((t): t is Matched => t.userId !== null);

/**
 * "We see your deposit": sent once per transfer the first time a registered wallet's transfer is seen; not for a
 * copy of a transfer confirmed before (a transaction mined again after a deep reorg), which is no new money.
 */
export function detectedMessages(chainId: number, confirmations: number, fresh: ObservedTransfer[]): OutboxMessage[] {
  return matched(fresh)
    .filter((t) => !t.remined)
    .map((t) =>
      outboxMessage(NotifierChannels.notificationRequested, {
        id: `deposit-detected:${transferKey(chainId, t)}`,
        userId: t.userId,
        template: 'deposit.detected',
        params: { amount: toUnits(t.amount), txHash: t.txHash, confirmations },
      } satisfies NotificationRequestOf<'deposit.detected'>),
    );
}

const chainFact = (chainId: number, t: Matched) => ({
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
export function confirmedMessages(chainId: number, transfers: ObservedTransfer[]): OutboxMessage[] {
  return matched(transfers).map((t) =>
    outboxMessage(ChainChannels.depositConfirmed, {
      id: `deposit-confirmed:${transferKey(chainId, t)}:r${t.revision ?? 1}`,
      ...chainFact(chainId, t),
    }),
  );
}

/** Tells the ledger a confirmed, matched transfer's block left the canonical chain. */
export function reorgedMessages(chainId: number, transfers: ObservedTransfer[]): OutboxMessage[] {
  return matched(transfers).map((t) =>
    outboxMessage(ChainChannels.depositReorged, {
      id: `deposit-reorged:${transferKey(chainId, t)}:r${t.revision ?? 1}`,
      ...chainFact(chainId, t),
    }),
  );
}
