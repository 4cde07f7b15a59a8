import type pg from 'pg';

export const AccountKind = {
  userAvailable: 'user_available',
  userHeld: 'user_held',
  depositsClearing: 'deposits_clearing',
  payoutsClearing: 'payouts_clearing',
  referralExpense: 'referral_expense',
  rewardExpense: 'reward_expense',
  /** What withdrawal fees earned the platform. */
  withdrawalFees: 'withdrawal_fees',
} as const;
export type AccountKind = (typeof AccountKind)[keyof typeof AccountKind];

export const SYSTEM_ACCOUNTS = [
  AccountKind.depositsClearing,
  AccountKind.payoutsClearing,
  AccountKind.referralExpense,
  AccountKind.rewardExpense,
  AccountKind.withdrawalFees,
] as const;
export type SystemAccountKind = (typeof SYSTEM_ACCOUNTS)[number];
export type SystemAccounts = Record<SystemAccountKind, string>;

/** Creates the system accounts once and returns their ids (they never change, so callers cache them). */
export async function ensureSystemAccounts(pool: pg.Pool): Promise<SystemAccounts> {
  await pool.query(
    `INSERT INTO accounts (kind) SELECT unnest($1::text[]) ON CONFLICT (kind) WHERE user_id IS NULL DO NOTHING`,
    [SYSTEM_ACCOUNTS],
  );
  const { rows } = await pool.query<{ id: string; kind: SystemAccountKind }>(
    'SELECT id, kind FROM accounts WHERE user_id IS NULL AND kind = ANY($1::text[])',
    [SYSTEM_ACCOUNTS],
  );
  return Object.fromEntries(rows.map((row) => [row.kind, row.id])) as SystemAccounts;
}
