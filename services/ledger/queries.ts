// The ledger's read side: plain reads through Prisma, and the one hot read of the credit path in SQL.
import type pg from 'pg';
import { REFERRAL_LEVELS } from '../../lib/contracts';
import type { PrismaClient } from '../../lib/db';
import { AccountKind } from './accounts';

export async function userBalance(prisma: PrismaClient, userId: string): Promise<{ available: bigint; held: bigint }> {
  const accounts = await prisma.account.findMany({
    where: { userId: BigInt(userId), kind: { in: [AccountKind.userAvailable, AccountKind.userHeld] } },
    select: { kind: true, balance: true },
  });
  const of = (kind: string) => BigInt(accounts.find((a) => a.kind === kind)?.balance.toFixed() ?? '0');
  return { available: of(AccountKind.userAvailable), held: of(AccountKind.userHeld) };
}

export async function referralEarnings(
  prisma: PrismaClient,
  userId: string,
): Promise<{ level: number; amount: bigint }[]> {
  const groups = await prisma.referralCommission.groupBy({
    by: ['level'],
    where: { beneficiaryId: BigInt(userId) },
    _sum: { amount: true },
  });
  const earned = new Map(groups.map((g) => [g.level, BigInt(g._sum.amount?.toFixed() ?? '0')]));
  return REFERRAL_LEVELS.map((level) => ({ level, amount: earned.get(level) ?? 0n }));
}

/** Asked before every credit (a redelivery is normal): one indexed SQL read. */
export async function isCredited(pool: pg.Pool, chainId: number, txHash: string, logIndex: number): Promise<boolean> {
  const { rowCount } = await pool.query({
    name: 'ledger.is-credited',
    text: 'SELECT 1 FROM deposits WHERE chain_id = $1 AND tx_hash = $2 AND log_index = $3',
    values: [chainId, txHash.toLowerCase(), logIndex],
  });
  return (rowCount ?? 0) > 0;
}

/** Which of the given users have at least one credited deposit (one reorged out of the chain does not count). */
export async function depositors(pool: pg.Pool, userIds: readonly string[]): Promise<string[]> {
  if (userIds.length === 0) return [];
  const { rows } = await pool.query<{ user_id: string }>(
    `SELECT DISTINCT user_id FROM deposits WHERE user_id = ANY($1::bigint[]) AND reorged_at IS NULL ORDER BY user_id`,
    [userIds],
  );
  return rows.map((row) => String(row.user_id));
}
