// Crediting a confirmed deposit: one transaction that records the deposit under its natural key
// (chain, tx, log index), moves the money, pays the uplines and enqueues the notifications, or does nothing
// at all when that key was credited before.
import type pg from 'pg';
import {
  NotifierChannels,
  outboxMessage,
  type DepositFact,
  type NotificationRequestOf,
  type OutboxMessage,
  type Upline,
} from '../../lib/contracts';
import { inTransaction } from '../../lib/db';
import { toUnits } from '../../lib/money';
import { enqueue } from '../../lib/outbox';
import { AccountKind, type SystemAccounts } from './accounts';
import { splitCommissions, type Commission } from './commissions';
import { postTransfers, type TransferSpec } from './journal';
import { depositLevel } from './levels';

export const LEDGER_OUTBOX = 'ledger_outbox';

/** A deposits.confirmed fact with its amount as bigint. */
export type ConfirmedDeposit = Omit<DepositFact, 'amount' | 'id' | 'revision'> & { amount: bigint; revision?: number };

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
  const credited: NotificationRequestOf<'deposit.credited'> | NotificationRequestOf<'deposit.credited_no_level'> =
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
        };
  return [
    outboxMessage(NotifierChannels.notificationRequested, credited),
    ...plan.commissions.map((commission) =>
      outboxMessage(NotifierChannels.notificationRequested, {
        id: `referral-commission:${key}:${commission.level}`,
        userId: commission.userId,
        template: 'referral.commission',
        params: { amount: toUnits(commission.amount), level: commission.level, fromUserId: deposit.userId },
      } satisfies NotificationRequestOf<'referral.commission'>),
    ),
  ];
}

/** The journal of a credit: deposits clearing → depositor, and referral expense → each upline. */
function creditTransfers(deposit: ConfirmedDeposit, plan: CreditPlan, depositId: string): TransferSpec[] {
  const key = depositKey(deposit);
  const available = AccountKind.userAvailable;
  const transfers: TransferSpec[] = [
    {
      kind: 'deposit',
      reference: `deposit:${key}`,
      depositId,
      legs: [
        { account: { system: AccountKind.depositsClearing }, amount: -deposit.amount },
        { account: { userId: deposit.userId, kind: available }, amount: deposit.amount },
      ],
    },
  ];
  if (plan.commissions.length > 0) {
    const total = plan.commissions.reduce((sum, c) => sum + c.amount, 0n);
    transfers.push({
      kind: 'referral_commission',
      reference: `referral_commission:${key}`,
      depositId,
      legs: [
        { account: { system: AccountKind.referralExpense }, amount: -total },
        ...plan.commissions.map((c) => ({ account: { userId: c.userId, kind: available }, amount: c.amount })),
      ],
    });
  }
  return transfers;
}

export async function creditDeposit(
  pool: pg.Pool,
  system: SystemAccounts,
  deposit: ConfirmedDeposit,
  plan: CreditPlan,
  notifications: OutboxMessage[],
): Promise<CreditResult> {
  if (deposit.amount <= 0n) throw new Error(`deposit ${depositKey(deposit)} has no positive amount`);
  return inTransaction(pool, async (client) => {
    // The natural key first: concurrent redeliveries queue on this row and all but one do nothing. The commission
    // rows and the notifications join the deposit row, so they are written only with it.
    const inserted = await client.query<{ id: string }>({
      name: 'ledger.credit.deposit',
      text: `WITH d AS (
               INSERT INTO deposits (chain_id, tx_hash, log_index, user_id, from_address, amount, level, block_number, block_hash, chain_revision)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               ON CONFLICT (chain_id, tx_hash, log_index) DO NOTHING
               RETURNING id
             ), c AS (
               INSERT INTO referral_commissions (deposit_id, level, beneficiary_id, amount)
               SELECT d.id, x.level, x.beneficiary_id, x.amount
               FROM d, unnest($11::smallint[], $12::bigint[], $13::numeric[]) AS x(level, beneficiary_id, amount)
             ), o AS (
               INSERT INTO ledger_outbox (channel, payload)
               SELECT x.channel, x.payload FROM d, unnest($14::text[], $15::jsonb[]) AS x(channel, payload)
             )
             SELECT id::text AS id FROM d`,
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
        deposit.revision ?? 1,
        plan.commissions.map((c) => c.level),
        plan.commissions.map((c) => c.userId),
        plan.commissions.map((c) => c.amount.toString()),
        notifications.map((n) => n.channel),
        notifications.map((n) => JSON.stringify(n.payload)),
      ],
    });
    const depositId = inserted.rows[0]?.id;
    if (!depositId) return { credited: false, reason: 'already-credited' } as const;
    await postTransfers(client, system, creditTransfers(deposit, plan, depositId));
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
    const alert = outboxMessage(NotifierChannels.adminAlert, {
      id: `${outcome === 'reorged-out' ? 'deposit-reorged' : 'deposit-restored'}:${key}:r${fact.revision ?? 1}`,
      template: outcome === 'reorged-out' ? 'admin.deposit_reorged' : 'admin.deposit_restored',
      params: {
        depositId: String(row.id),
        userId: String(row.user_id),
        amount: String(row.amount),
        txHash: fact.txHash.toLowerCase(),
        blockNumber: fact.blockNumber,
      },
    });
    await enqueue(client, LEDGER_OUTBOX, [alert]);
    return outcome;
  });
}
