import { addressRule, idRule, txHashRule, unitsRule } from '../../lib/validate';

export const depositConfirmedSchema = {
  chainId: { type: 'number', integer: true, positive: true },
  txHash: txHashRule,
  logIndex: { type: 'number', integer: true, min: 0 },
  blockNumber: { type: 'string', pattern: /^\d+$/ },
  blockHash: txHashRule,
  fromAddress: addressRule,
  userId: idRule,
  amount: unitsRule,
  /** chain-monitor's revision of the transfer; a fact with a lower one than the ledger applied last is old news. */
  revision: { type: 'number', integer: true, positive: true, optional: true, default: 1 },
} as const;

export interface DepositConfirmedMessage {
  chainId: number;
  txHash: string;
  logIndex: number;
  blockNumber: string;
  blockHash: string;
  fromAddress: string;
  userId: string;
  amount: string;
  revision?: number;
}

/** deposits.reorged carries the same facts: the transfer as it was confirmed, now without a canonical block. */
export const depositReorgedSchema = depositConfirmedSchema;
export type DepositReorgedMessage = DepositConfirmedMessage;

export const userParams = { userId: idRule } as const;
export interface UserParams {
  userId: string;
}
