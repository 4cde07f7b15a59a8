// Crediting a confirmed deposit: one transaction that records the deposit under its natural key
// (chain, tx, log index), moves the money, pays the uplines and enqueues the notifications, or does nothing
// at all when that key was credited before.
import type pg from 'pg';
import { inTransaction } from '../../lib/db';
import { toUnits } from '../../lib/money';
import { Channels } from '../../lib/channels';
import { enqueue, type OutboxMessage } from '../../lib/outbox';
import type { SystemAccounts } from './accounts';
import { splitCommissions, type Commission, type Upline } from './commissions';
import { depositLevel } from './levels';
import type { DepositConfirmedMessage } from './schemas';

/** A deposits.confirmed message with its amount as bigint. */
export type ConfirmedDeposit = Omit<DepositConfirmedMessage, 'amount'> & { amount: bigint };

export interface CreditRules {
  levelThresholds: readonly bigint[];
  referralRates: readonly bigint[];
}

export interface CreditPlan {
  level: number;
  commissions: Commission[];
}

export type CreditResult =
  { credited: true; depositId: string; plan: CreditPlan } | { credited: false; reason: 'already-credited' };

export function depositKey(d: Pick<ConfirmedDeposit, 'chainId' | 'txHash' | 'logIndex'>): string {
  return `${d.chainId}:${d.txHash.toLowerCase()}:${d.logIndex}`;
}

export function planCredit(deposit: ConfirmedDeposit, uplines: readonly Upline[], rules: CreditRules): CreditPlan {
  return {
    level: depositLevel(deposit.amount, rules.levelThresholds),
    commissions: splitCommissions(deposit.amount, uplines, rules.referralRates),
  };
}

/** The messages a credit promises: the depositor hears about the credit, each upline about its commission. */
export function creditNotifications(deposit: ConfirmedDeposit, plan: CreditPlan, rules: CreditRules): OutboxMessage[] {
  const key = depositKey(deposit);
  const amount = toUnits(deposit.amount);
  const messages: OutboxMessage[] = [
    {
      channel: Channels.notificationRequested,
      payload:
        plan.level > 0
          ? {
              id: `deposit-credited:${key}`,
              userId: deposit.userId,
              template: 'deposit.credited',
              params: { amount, level: plan.level },
            }
          : {
              id: `deposit-credited:${key}`,
              userId: deposit.userId,
              template: 'deposit.credited_no_level',
              params: { amount, minimum: toUnits(rules.levelThresholds[0] ?? 0n) },
            },
    },
  ];
  for (const commission of plan.commissions) {
    messages.push({
      channel: Channels.notificationRequested,
      payload: {
        id: `referral-commission:${key}:${commission.level}`,
        userId: commission.userId,
        template: 'referral.commission',
        params: { amount: toUnits(commission.amount), level: commission.level, fromUserId: deposit.userId },
      },
    });
  }
  return messages;
}

export async function creditDeposit(
  pool: pg.Pool,
  system: SystemAccounts,
  deposit: ConfirmedDeposit,
  plan: CreditPlan,
  notifications: OutboxMessage[],
): Promise<CreditResult> {
  if (deposit.amount <= 0n) throw new Error(`deposit ${depositKey(deposit)} has no positive amount`);
  // Credits per user, summed and sorted so concurrent credits lock account rows in one order (no deadlocks).
  const credits = new Map<string, bigint>([[deposit.userId, deposit.amount]]);
  for (const c of plan.commissions) credits.set(c.userId, (credits.get(c.userId) ?? 0n) + c.amount);
  const users = [...credits.keys()].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1));

  return inTransaction(pool, async (client) => {
    const first = await client.query<{ deposit_id: string | null; accounts: { id: string; user_id: string }[] | null }>(
      {
        name: 'ledger.credit.deposit',
        text: `WITH d AS (
               INSERT INTO deposits (chain_id, tx_hash, log_index, user_id, from_address, amount, level, block_number, block_hash, chain_revision)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $12)
               ON CONFLICT (chain_id, tx_hash, log_index) DO NOTHING
               RETURNING id
             ), a AS (
               INSERT INTO accounts (kind, user_id, balance)
               SELECT 'user_available', x.user_id, x.amount
               FROM d, unnest($10::bigint[], $11::numeric[]) WITH ORDINALITY AS x(user_id, amount, n)
               ORDER BY x.n
               ON CONFLICT (kind, user_id) DO UPDATE SET balance = accounts.balance + EXCLUDED.balance
               RETURNING id, user_id
             )
             SELECT (SELECT id FROM d) AS deposit_id,
                    (SELECT json_agg(json_build_object('id', a.id::text, 'user_id', a.user_id::text)) FROM a) AS accounts`,
        values: [
          deposit.chainId,
          deposit.txHash.toLowerCase(),
          deposit.logIndex,
          deposit.userId,
          deposit.fromAddress,
          deposit.amount.toString(),
          plan.level,
          deposit.blockNumber,
          deposit.blockHash,
          users,
          users.map((u) => credits.get(u)!.toString()),
          deposit.revision ?? 1,
        ],
      },
    );
    const depositId = first.rows[0]?.deposit_id;
    if (!depositId) return { credited: false, reason: 'already-credited' } as const;
    const accountOf = new Map((first.rows[0]!.accounts ?? []).map((a) => [String(a.user_id), String(a.id)]));

    const key = depositKey(deposit);
    const transfers: [kind: string, reference: string][] = [['deposit', `deposit:${key}`]];
    const entries: [transferKind: string, accountId: string, amount: bigint][] = [
      ['deposit', system.deposits_clearing, -deposit.amount],
      ['deposit', accountOf.get(deposit.userId)!, deposit.amount],
    ];
    if (plan.commissions.length > 0) {
      transfers.push(['referral_commission', `referral_commission:${key}`]);
      const total = plan.commissions.reduce((sum, c) => sum + c.amount, 0n);
      entries.push(['referral_commission', system.referral_expense, -total]);
      for (const c of plan.commissions) entries.push(['referral_commission', accountOf.get(c.userId)!, c.amount]);
    }

    await client.query({
      name: 'ledger.credit.journal',
      text: `WITH t AS (
               INSERT INTO journal_transfers (kind, reference, deposit_id)
               SELECT x.kind, x.reference, $1 FROM unnest($2::text[], $3::text[]) AS x(kind, reference)
               RETURNING id, kind
             ), e AS (
               INSERT INTO journal_entries (transfer_id, account_id, amount)
               SELECT t.id, x.account_id, x.amount
               FROM unnest($4::text[], $5::bigint[], $6::numeric[]) AS x(kind, account_id, amount) JOIN t ON t.kind = x.kind
             ), c AS (
               INSERT INTO referral_commissions (deposit_id, level, beneficiary_id, amount)
               SELECT $1, x.level, x.beneficiary_id, x.amount FROM unnest($7::smallint[], $8::bigint[], $9::numeric[]) AS x(level, beneficiary_id, amount)
             )
             INSERT INTO ledger_outbox (channel, payload) SELECT x.channel, x.payload FROM unnest($10::text[], $11::jsonb[]) AS x(channel, payload)`,
      values: [
        depositId,
        transfers.map((t) => t[0]),
        transfers.map((t) => t[1]),
        entries.map((e) => e[0]),
        entries.map((e) => e[1]),
        entries.map((e) => e[2].toString()),
        plan.commissions.map((c) => c.level),
        plan.commissions.map((c) => c.userId),
        plan.commissions.map((c) => c.amount.toString()),
        notifications.map((n) => n.channel),
        notifications.map((n) => JSON.stringify(n.payload)),
      ],
    });
    return { credited: true, depositId, plan } as const;
  });
}

/** What a later chain fact did to a credited deposit. */
export type ChainFactOutcome = 'reorged-out' | 'restored' | 'moved' | 'stale' | 'not-credited';

/**
 * Applies chain-monitor's latest word on a credited deposit: its block left the chain (reorged out) or it is
 * on the chain again, maybe in another block. Facts older than the one applied last are ignored, whatever order
 * they arrive in. Balances never change here: a credit the user may have spent is not reversed automatically;
 * admins are told (in the same transaction, through the outbox) and `ledger.check` reports it until it is back.
 */
export async function applyChainFact(
  pool: pg.Pool,
  fact: Omit<ConfirmedDeposit, 'amount'>,
  reorgedOut: boolean,
): Promise<ChainFactOutcome> {
  const key = depositKey(fact);
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{
      id: string;
      user_id: string;
      amount: string;
      was_reorged: boolean;
      changed: boolean;
    }>(
      `WITH old AS (
         SELECT id, reorged_at IS NOT NULL AS was_reorged, chain_revision < $6 AS newer FROM deposits
         WHERE chain_id = $1 AND tx_hash = $2 AND log_index = $3 FOR UPDATE
       ), changed AS (
         UPDATE deposits d SET block_number = $4, block_hash = $5, chain_revision = $6,
           reorged_at = CASE WHEN $7::boolean THEN COALESCE(d.reorged_at, now()) END
         FROM old WHERE d.id = old.id AND old.newer
         RETURNING d.id
       )
       SELECT d.id, d.user_id, d.amount, old.was_reorged, EXISTS (SELECT 1 FROM changed) AS changed
       FROM deposits d JOIN old ON old.id = d.id`,
      [
        fact.chainId,
        fact.txHash.toLowerCase(),
        fact.logIndex,
        fact.blockNumber,
        fact.blockHash,
        fact.revision ?? 1,
        reorgedOut,
      ],
    );
    const row = rows[0];
    if (!row) return 'not-credited';
    if (!row.changed) return 'stale';
    const outcome: ChainFactOutcome =
      reorgedOut === row.was_reorged ? 'moved' : reorgedOut ? 'reorged-out' : 'restored';
    if (outcome === 'moved') return outcome;
    const alert: OutboxMessage = {
      channel: Channels.adminAlert,
      payload: {
        id: `${outcome === 'reorged-out' ? 'deposit-reorged' : 'deposit-restored'}:${key}:r${fact.revision ?? 1}`,
        template: outcome === 'reorged-out' ? 'admin.deposit_reorged' : 'admin.deposit_restored',
        params: {
          depositId: String(row.id),
          userId: String(row.user_id),
          amount: String(row.amount),
          txHash: fact.txHash.toLowerCase(),
          blockNumber: fact.blockNumber,
        },
      },
    };
    await enqueue(client, 'ledger_outbox', [alert]);
    return outcome;
  });
}
