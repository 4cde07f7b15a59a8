// What the ledger does with chain-monitor's word about a deposit: credit it once when it is confirmed, and track
// later facts (reorged out, on the chain again) without ever moving money for them. Plain functions over ports,
// so a test can drive them without a broker.
import type pg from 'pg';
import type { DepositFact, Upline } from '../../lib/contracts';
import type { Logger } from '../../lib/logger';
import type { SystemAccounts } from './accounts';
import { applyChainFact, creditDeposit, creditNotifications, planCredit, type CreditRules } from './deposits';
import { isCredited } from './queries';

export interface ChainFactPorts {
  pool: pg.Pool;
  system: SystemAccounts;
  rules: CreditRules;
  uplines(userId: string): Promise<Upline[]>;
  /** Called after a commit that enqueued messages, so the outbox relay sends them now. */
  onCommitted(): void;
  log: Logger;
}

export type ConfirmedOutcome = 'credited' | 'restored' | 'known';

export async function settleConfirmedDeposit(message: DepositFact, ports: ChainFactPorts): Promise<ConfirmedOutcome> {
  const { pool, log } = ports;
  // A redelivery of a credited deposit is normal: answered without asking anyone anything.
  if (!(await isCredited(pool, message.chainId, message.txHash, message.logIndex))) {
    const uplines = ports.rules.referralRates.length ? await ports.uplines(message.userId) : [];
    const deposit = { ...message, amount: BigInt(message.amount) };
    const plan = planCredit(deposit, uplines, ports.rules);
    const result = await creditDeposit(
      pool,
      ports.system,
      deposit,
      plan,
      creditNotifications(deposit, plan, ports.rules),
    );
    if (result.credited) {
      ports.onCommitted();
      log.info(
        {
          user_id: message.userId,
          deposit_id: result.depositId,
          deposit_level: result.plan.level,
          commissions: result.plan.commissions.length,
        },
        'deposit credited',
      );
      return 'credited';
    }
    // Another delivery (maybe of an older revision) credited it first: this one's block facts still count.
  }
  // A newer revision of a credited deposit: on the chain again after a deep reorg, or in another block.
  const outcome = await applyChainFact(pool, message, false);
  if (outcome !== 'restored') return 'known';
  ports.onCommitted();
  log.warn({ user_id: message.userId, tx_hash: message.txHash }, 'reorged-out deposit is on the chain again');
  return 'restored';
}

export async function settleReorgedDeposit(message: DepositFact, ports: ChainFactPorts): Promise<void> {
  const outcome = await applyChainFact(ports.pool, message, true);
  // Announced before this, the credit itself may still be on its way: wait for it (the delivery is retried).
  if (outcome === 'not-credited') throw new Error(`deposit ${message.txHash}:${message.logIndex} is not credited yet`);
  if (outcome !== 'reorged-out') return;
  ports.onCommitted();
  ports.log.error(
    { user_id: message.userId, tx_hash: message.txHash, log_index: message.logIndex, amount: message.amount },
    'a credited deposit left the chain (a reorg deeper than the confirmations); admins alerted, nothing reversed',
  );
}
