// The one way money moves: balanced transfers posted in the caller's transaction: deposits, commissions, rewards,
// withdrawal holds, posts and voids.
import type pg from 'pg';
import { AccountKind, type SystemAccountKind, type SystemAccounts } from './accounts';

export type UserAccountKind = typeof AccountKind.userAvailable | typeof AccountKind.userHeld;

export type AccountRef = { userId: string; kind: UserAccountKind } | { system: SystemAccountKind };

export interface Leg {
  account: AccountRef;
  /** Positive credits the account, negative debits it. */
  amount: bigint;
}

export interface TransferSpec {
  kind: string;
  /** Unique: posting the same reference twice fails (a second credit of one thing is refused by the database). */
  reference: string;
  depositId?: string | null;
  withdrawalId?: string | null;
  legs: Leg[];
}

export class UnbalancedTransferError extends Error {}

/**
 * Posts balanced transfers in one statement. User accounts are locked in one order (user id, then kind), so
 * concurrent postings never deadlock, then updated; missing ones are created. Existing accounts are updated rather
 * than upserted because PostgreSQL checks an upsert's proposed row against the balance CHECK before it sees the
 * conflict, so a debit could never be upserted; system accounts keep no running balance (their balance is
 * the sum of their entries), so they are never a hot row. A user balance that would go below zero fails the
 * accounts CHECK (SQLSTATE 23514) and the caller's transaction with it; the database checks each transfer's balance
 * again at commit.
 */
export async function postTransfers(
  client: pg.PoolClient,
  system: SystemAccounts,
  transfers: readonly TransferSpec[],
): Promise<Map<string, string>> {
  for (const transfer of transfers) {
    const sum = transfer.legs.reduce((total, leg) => total + leg.amount, 0n);
    if (sum !== 0n || transfer.legs.filter((leg) => leg.amount !== 0n).length < 2)
      throw new UnbalancedTransferError(
        `transfer ${transfer.reference} is unbalanced: ${sum} over ${transfer.legs.length} legs`,
      );
  }
  // A leg of zero (a withdrawal without a fee) moves nothing and is no entry.
  const legs = transfers.flatMap((transfer) =>
    transfer.legs.filter((leg) => leg.amount !== 0n).map((leg) => ({ reference: transfer.reference, ...leg })),
  );
  const userLeg = (leg: Leg) => ('userId' in leg.account ? leg.account : undefined);
  const { rows } = await client.query<{ reference: string; id: string }>({
    name: 'ledger.journal.post',
    text: `WITH deltas AS (
             SELECT x.kind, x.user_id, SUM(x.amount) AS delta
             FROM unnest($1::text[], $2::bigint[], $3::numeric[]) AS x(kind, user_id, amount)
             WHERE x.user_id IS NOT NULL
             GROUP BY x.kind, x.user_id
           ), locked AS (
             SELECT a.id, a.kind, a.user_id FROM accounts a JOIN deltas d ON a.kind = d.kind AND a.user_id = d.user_id
             ORDER BY a.user_id, a.kind FOR UPDATE OF a
           ), updated AS (
             UPDATE accounts SET balance = accounts.balance + d.delta
             FROM locked l JOIN deltas d ON d.kind = l.kind AND d.user_id = l.user_id
             WHERE accounts.id = l.id
             RETURNING accounts.id, accounts.kind, accounts.user_id
           ), created AS (
             INSERT INTO accounts (kind, user_id, balance)
             SELECT d.kind, d.user_id, d.delta FROM deltas d
             WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.kind = d.kind AND l.user_id = d.user_id)
             ORDER BY d.user_id, d.kind
             ON CONFLICT (kind, user_id) DO UPDATE SET balance = accounts.balance + EXCLUDED.balance
             RETURNING id, kind, user_id
           ), a AS (
             SELECT * FROM updated UNION ALL SELECT * FROM created
           ), t AS (
             INSERT INTO journal_transfers (kind, reference, deposit_id, withdrawal_id)
             SELECT * FROM unnest($4::text[], $5::text[], $6::bigint[], $9::bigint[])
             RETURNING id, reference
           ), e AS (
             INSERT INTO journal_entries (transfer_id, account_id, amount)
             SELECT t.id, COALESCE(a.id, x.system_account_id), x.amount
             FROM unnest($7::text[], $1::text[], $2::bigint[], $8::bigint[], $3::numeric[])
               AS x(reference, kind, user_id, system_account_id, amount)
             JOIN t ON t.reference = x.reference
             LEFT JOIN a ON a.kind = x.kind AND a.user_id = x.user_id
           )
           SELECT reference, id::text AS id FROM t`,
    values: [
      legs.map((leg) => userLeg(leg)?.kind ?? null),
      legs.map((leg) => userLeg(leg)?.userId ?? null),
      legs.map((leg) => leg.amount.toString()),
      transfers.map((t) => t.kind),
      transfers.map((t) => t.reference),
      transfers.map((t) => t.depositId ?? null),
      legs.map((leg) => leg.reference),
      legs.map((leg) => ('system' in leg.account ? system[leg.account.system] : null)),
      transfers.map((t) => t.withdrawalId ?? null),
    ],
  });
  return new Map(rows.map((row) => [row.reference, row.id]));
}
