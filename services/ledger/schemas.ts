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
}

export const userParams = { userId: idRule } as const;
export interface UserParams {
  userId: string;
}
