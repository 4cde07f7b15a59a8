// The ledger's invariants (docs/ARCHITECTURE.md, Money), checked against the database as it is.
import type pg from 'pg';
import type { LedgerCheck } from '../../lib/contracts';

export async function checkLedger(pool: pg.Pool): Promise<LedgerCheck> {
  const problems: string[] = [];
  const unbalanced = await pool.query<{ id: string; total: string; legs: string }>(
    `SELECT t.id, COALESCE(SUM(e.amount), 0) AS total, COUNT(e.id) AS legs
     FROM journal_transfers t LEFT JOIN journal_entries e ON e.transfer_id = t.id
     GROUP BY t.id HAVING COALESCE(SUM(e.amount), 0) <> 0 OR COUNT(e.id) < 2 LIMIT 20`,
  );
  for (const row of unbalanced.rows)
    problems.push(`transfer ${row.id} is unbalanced: sum ${row.total} over ${row.legs} entries`);

  const drifted = await pool.query<{ id: string; balance: string; entries: string }>(
    `SELECT a.id, a.balance, COALESCE(e.total, 0) AS entries
     FROM accounts a LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM journal_entries GROUP BY account_id) e ON e.account_id = a.id
     WHERE a.user_id IS NOT NULL AND a.balance <> COALESCE(e.total, 0) LIMIT 20`,
  );
  for (const row of drifted.rows)
    problems.push(`account ${row.id} balance ${row.balance} differs from its entries ${row.entries}`);

  const negative = await pool.query<{ id: string; balance: string }>(
    'SELECT id, balance FROM accounts WHERE user_id IS NOT NULL AND balance < 0 LIMIT 20',
  );
  for (const row of negative.rows) problems.push(`account ${row.id} is below zero: ${row.balance}`);

  const { rows } = await pool.query<LedgerCheck['totals']>(
    `SELECT
       (SELECT COALESCE(SUM(amount), 0) FROM deposits)::text AS deposits,
       (SELECT COALESCE(-SUM(e.amount), 0) FROM journal_entries e JOIN accounts a ON a.id = e.account_id WHERE a.kind = 'deposits_clearing')::text AS "depositsClearing",
       (SELECT COALESCE(SUM(amount), 0) FROM referral_commissions)::text AS commissions,
       (SELECT COALESCE(-SUM(e.amount), 0) FROM journal_entries e JOIN accounts a ON a.id = e.account_id WHERE a.kind = 'referral_expense')::text AS "referralExpense",
       (SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE user_id IS NOT NULL)::text AS "userBalances",
       (SELECT COALESCE(-SUM(e.amount), 0) FROM journal_entries e JOIN accounts a ON a.id = e.account_id WHERE a.user_id IS NULL)::text AS "systemPaid",
       (SELECT COALESCE(SUM(balance), 0) FROM accounts WHERE kind = 'user_held')::text AS held,
       (SELECT COALESCE(SUM(amount + fee), 0) FROM withdrawals WHERE status IN ('pending_approval', 'approved'))::text AS "openWithdrawals",
       (SELECT COALESCE(SUM(e.amount), 0) FROM journal_entries e JOIN accounts a ON a.id = e.account_id WHERE a.kind = 'payouts_clearing')::text AS "payoutsClearing",
       (SELECT COALESCE(SUM(amount), 0) FROM withdrawals WHERE status = 'paid')::text AS "paidWithdrawals",
       (SELECT COALESCE(SUM(e.amount), 0) FROM journal_entries e JOIN accounts a ON a.id = e.account_id WHERE a.kind = 'withdrawal_fees')::text AS "withdrawalFees",
       (SELECT COALESCE(SUM(fee), 0) FROM withdrawals WHERE status = 'paid')::text AS "paidFees",
       (SELECT COALESCE(SUM(amount), 0) FROM reward_accruals)::text AS rewards,
       (SELECT COALESCE(-SUM(e.amount), 0) FROM journal_entries e JOIN accounts a ON a.id = e.account_id WHERE a.kind = 'reward_expense')::text AS "rewardExpense"`,
  );
  const totals = rows[0]!;
  if (BigInt(totals.deposits) !== BigInt(totals.depositsClearing)) {
    problems.push(
      `on-chain deposits ${totals.deposits} do not reconcile with the deposits clearing account ${totals.depositsClearing}`,
    );
  }
  if (BigInt(totals.commissions) !== BigInt(totals.referralExpense)) {
    problems.push(
      `referral commissions ${totals.commissions} do not reconcile with the referral expense account ${totals.referralExpense}`,
    );
  }
  if (BigInt(totals.userBalances) !== BigInt(totals.systemPaid)) {
    problems.push(
      `user balances ${totals.userBalances} differ from what the system accounts paid out ${totals.systemPaid}`,
    );
  }
  problems.push(...(await checkWithdrawals(pool, totals)));
  const uncredited = await pool.query<{ id: string }>(
    `SELECT d.id FROM deposits d WHERE NOT EXISTS (SELECT 1 FROM journal_transfers t WHERE t.deposit_id = d.id AND t.kind = 'deposit') LIMIT 20`,
  );
  for (const row of uncredited.rows) problems.push(`deposit ${row.id} has no deposit transfer`);
  const reorged = await pool.query<{ id: string; user_id: string; amount: string; tx_hash: string; reorged_at: Date }>(
    `SELECT id, user_id, amount, tx_hash, reorged_at FROM deposits WHERE reorged_at IS NOT NULL ORDER BY id LIMIT 20`,
  );
  for (const row of reorged.rows) {
    problems.push(
      `deposit ${row.id} (user ${row.user_id}, ${row.amount} base units, tx ${row.tx_hash}) is credited but its ` +
        `transaction left the chain at ${row.reorged_at.toISOString()} (a reorg deeper than the confirmations)`,
    );
  }
  return { ok: problems.length === 0, problems, totals };
}

/** Every hold resolves once: what is held is what open withdrawals hold, paid ones are posted, the others voided. */
async function checkWithdrawals(pool: pg.Pool, totals: LedgerCheck['totals']): Promise<string[]> {
  const problems: string[] = [];
  const pairs: [keyof LedgerCheck['totals'], keyof LedgerCheck['totals'], string][] = [
    ['held', 'openWithdrawals', 'held balances'],
    ['payoutsClearing', 'paidWithdrawals', 'the payouts clearing account'],
    ['withdrawalFees', 'paidFees', 'the withdrawal fees account'],
    ['rewardExpense', 'rewards', 'the reward expense account'],
  ];
  for (const [book, facts, name] of pairs)
    if (BigInt(totals[book]) !== BigInt(totals[facts]))
      problems.push(`${name} ${totals[book]} differ from the withdrawals and accruals behind them ${totals[facts]}`);
  const { rows } = await pool.query<{ id: string; status: string; holds: string; posts: string; voids: string }>(
    `SELECT w.id::text, w.status,
       COUNT(*) FILTER (WHERE t.kind = 'withdrawal_hold') AS holds,
       COUNT(*) FILTER (WHERE t.kind = 'withdrawal_post') AS posts,
       COUNT(*) FILTER (WHERE t.kind = 'withdrawal_void') AS voids
     FROM withdrawals w LEFT JOIN journal_transfers t ON t.withdrawal_id = w.id
     GROUP BY w.id, w.status
     HAVING COUNT(*) FILTER (WHERE t.kind = 'withdrawal_hold') <> 1
       OR COUNT(*) FILTER (WHERE t.kind = 'withdrawal_post') <> (CASE WHEN w.status = 'paid' THEN 1 ELSE 0 END)
       OR COUNT(*) FILTER (WHERE t.kind = 'withdrawal_void') <>
          (CASE WHEN w.status IN ('rejected', 'cancelled', 'simulated', 'voided') THEN 1 ELSE 0 END)
     LIMIT 20`,
  );
  for (const row of rows)
    problems.push(
      `withdrawal ${row.id} (${row.status}) has ${row.holds} holds, ${row.posts} posts and ${row.voids} voids`,
    );
  return problems;
}
