// A balance for a test user: a confirmed deposit credited by the ledger's own code, as if chain-monitor had seen it.
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ensureSystemAccounts } from '../../services/ledger/accounts';
import {
  creditDeposit,
  creditNotifications,
  planCredit,
  type ConfirmedDeposit,
  type CreditRules,
} from '../../services/ledger/deposits';

const randomHash = () => `0x${randomBytes(32).toString('hex')}`;

export interface TestDepositOptions {
  chainId?: number;
  /** The depositor's wallet (any address: the ledger does not check it). */
  fromAddress?: string;
  /** Enqueue the credit's notifications, as a real credit does (off: the user hears nothing of it). */
  notify?: boolean;
  /** Levels and referral rates (default: one level from the smallest unit, no commissions). */
  rules?: CreditRules;
}

export async function creditTestDeposit(
  pool: pg.Pool,
  userId: string,
  amount: bigint,
  options: TestDepositOptions = {},
): Promise<ConfirmedDeposit & { depositId: string }> {
  const deposit: ConfirmedDeposit = {
    chainId: options.chainId ?? 56,
    txHash: randomHash(),
    logIndex: 0,
    blockNumber: '1',
    blockHash: randomHash(),
    fromAddress: options.fromAddress ?? '0x1111111111111111111111111111111111111111',
    userId,
    amount,
  };
  // No uplines: the deposit is credited whole.
  const rules = options.rules ?? { levelThresholds: [1n], referralRates: [] };
  const plan = planCredit(deposit, [], rules);
  const system = await ensureSystemAccounts(pool);
  const result = await creditDeposit(
    pool,
    system,
    deposit,
    plan,
    options.notify ? creditNotifications(deposit, plan, rules) : [],
  );
  if (!result.credited) throw new Error('the test deposit was not credited');
  return { ...deposit, depositId: result.depositId };
}
