import type pg from 'pg';

export async function userBalance(pool: pg.Pool, userId: string): Promise<{ available: bigint; held: bigint }> {
  const { rows } = await pool.query<{ kind: string; balance: string }>(
    `SELECT kind, balance FROM accounts WHERE user_id = $1 AND kind IN ('user_available', 'user_held')`,
    [userId],
  );
  const of = (kind: string) => BigInt(rows.find((r) => r.kind === kind)?.balance ?? '0');
  return { available: of('user_available'), held: of('user_held') };
}

export async function referralEarnings(pool: pg.Pool, userId: string): Promise<{ level: number; amount: bigint }[]> {
  const { rows } = await pool.query<{ level: number; amount: string }>(
    `SELECT level, SUM(amount) AS amount FROM referral_commissions WHERE beneficiary_id = $1 GROUP BY level ORDER BY level`,
    [userId],
  );
  return [1, 2, 3].map((level) => ({ level, amount: BigInt(rows.find((r) => r.level === level)?.amount ?? '0') }));
}

export async function isCredited(pool: pg.Pool, chainId: number, txHash: string, logIndex: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    'SELECT 1 FROM deposits WHERE chain_id = $1 AND tx_hash = $2 AND log_index = $3',
    [chainId, txHash.toLowerCase(), logIndex],
  );
  return (rowCount ?? 0) > 0;
}
