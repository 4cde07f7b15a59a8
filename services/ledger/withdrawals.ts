// Withdrawals as two-phase transfers. Requesting holds the funds (available → held) under the user's account lock,
// with the limits checked in the same transaction; then exactly one resolution moves them out of held: posted when
// the payout is final on chain, voided when rejected, cancelled, simulated or given up. Both resolutions share one
// journal reference, so the database itself refuses a second.
import { createHash } from 'node:crypto';
import { Errors } from 'moleculer';
import type pg from 'pg';
import {
  LedgerChannels,
  NotifierChannels,
  outboxMessage,
  type NotificationRequestOf,
  type OutboxMessage,
  type Template,
  type TemplateParams,
  type UserRecord,
  type WithdrawalRecord,
  type WithdrawalStatus,
} from '../../lib/contracts';
import { inTransaction } from '../../lib/db';
import { toUnits } from '../../lib/money';
import { enqueue } from '../../lib/outbox';
import { AccountKind, type SystemAccounts } from './accounts';
import { LEDGER_OUTBOX } from './deposits';
import { postTransfers, type TransferSpec } from './journal';

export interface WithdrawalRules {
  minimum: bigint;
  fee: bigint;
  autoApproveLimit: bigint;
  dailyLimitUser: bigint;
  dailyLimitGlobal: bigint;
  walletCooldownMs: number;
}

/** A withdrawal refused for a reason the user or admin can act on (a 4xx answer, never retried). */
export class WithdrawalRefusal extends Errors.MoleculerClientError {
  constructor(type: string, message: string, data: Record<string, unknown> = {}, code = 422) {
    super(message, code, type, data);
  }
}

const OPEN: readonly WithdrawalStatus[] = ['pending_approval', 'approved'];

interface WithdrawalRow {
  id: string;
  user_id: string;
  amount: string;
  fee: string;
  destination: string;
  status: WithdrawalStatus;
  request_hash: string;
  decided_by: string | null;
  reject_reason: string | null;
  tx_hash: string | null;
  created_at: Date;
}

const COLUMNS =
  'id::text, user_id::text, amount::text, fee::text, destination, status, request_hash, decided_by, reject_reason, tx_hash, created_at';

export function toRecord(row: WithdrawalRow): WithdrawalRecord {
  return {
    id: row.id,
    userId: row.user_id,
    amount: row.amount,
    fee: row.fee,
    destination: row.destination,
    status: row.status,
    decidedBy: row.decided_by,
    rejectReason: row.reject_reason,
    txHash: row.tx_hash,
    createdAt: row.created_at.toISOString(),
  };
}

/** The request a key stands for: the same key with another amount is refused. */
const requestHash = (amount: bigint) => createHash('sha256').update(`withdraw:${amount}`).digest('hex');

const INSUFFICIENT = (error: unknown) =>
  (error as { code?: string; constraint?: string }).code === '23514' &&
  (error as { constraint?: string }).constraint === 'accounts_user_balance_not_negative';

export interface Quote {
  amount: bigint;
  fee: bigint;
  total: bigint;
  available: bigint;
  destination: string;
  needsApproval: boolean;
}

/** Everything that can be checked before any lock: amount, wallet, cooldown; then the balance as it is now. */
export function checkRequest(rules: WithdrawalRules, user: UserRecord, amount: bigint, available: bigint): Quote {
  if (amount < rules.minimum)
    throw new WithdrawalRefusal('WITHDRAWAL_BELOW_MINIMUM', 'the amount is below the minimum withdrawal', {
      minimum: toUnits(rules.minimum),
    });
  if (!user.walletAddress) throw new WithdrawalRefusal('NO_WALLET', 'no wallet is registered to withdraw to');
  if (user.walletChangedAt) {
    const until = new Date(Date.parse(user.walletChangedAt) + rules.walletCooldownMs);
    if (until.getTime() > Date.now())
      throw new WithdrawalRefusal('WALLET_COOLDOWN', 'withdrawals wait after a wallet change', {
        until: until.toISOString(),
      });
  }
  const total = amount + rules.fee;
  if (total > available)
    throw new WithdrawalRefusal('INSUFFICIENT_FUNDS', 'the available balance does not cover amount and fee', {
      available: toUnits(available),
    });
  return {
    amount,
    fee: rules.fee,
    total,
    available,
    destination: user.walletAddress,
    needsApproval: amount > rules.autoApproveLimit,
  };
}

function notify<T extends Template>(id: string, userId: string, template: T, params: TemplateParams<T>): OutboxMessage {
  const request: NotificationRequestOf<T> = { id, userId, template, params };
  return outboxMessage(NotifierChannels.notificationRequested, request);
}

/** What a withdrawal's new state promises: the user's message, and the payout or the admins' decision. */
function announcements(w: WithdrawalRecord): OutboxMessage[] {
  const base = { withdrawalId: w.id, amount: w.amount };
  if (w.status === 'approved')
    return [
      notify(`withdrawal-approved:${w.id}`, w.userId, 'withdrawal.approved', base),
      outboxMessage(LedgerChannels.withdrawalApproved, {
        id: `withdrawal-approved:${w.id}`,
        withdrawalId: w.id,
        userId: w.userId,
        destination: w.destination,
        amount: w.amount,
      }),
    ];
  if (w.status === 'pending_approval')
    return [
      notify(`withdrawal-pending:${w.id}`, w.userId, 'withdrawal.pending_approval', base),
      outboxMessage(NotifierChannels.adminAlert, {
        id: `withdrawal-pending:${w.id}`,
        template: 'admin.withdrawal_pending',
        params: { ...base, userId: w.userId, destination: w.destination },
      }),
    ];
  return [];
}

/** What the daily limits leave for this user now (the request checks again under its lock). */
export async function checkDailyLimits(pool: pg.Pool, rules: WithdrawalRules, userId: string, amount: bigint) {
  const { rows } = await pool.query<{ user_total: string; day_total: string }>({
    name: 'ledger.withdraw.headroom',
    text: `SELECT
             (SELECT COALESCE(SUM(amount), 0) FROM withdrawals WHERE user_id = $1 AND created_at > now() - interval '24 hours'
                AND status IN ('pending_approval', 'approved', 'paid'))::text AS user_total,
             (SELECT COALESCE(MAX(total), 0) FROM withdrawal_days WHERE day = (now() AT TIME ZONE 'UTC')::date)::text AS day_total`,
    values: [userId],
  });
  const { user_total, day_total } = rows[0]!;
  if (BigInt(user_total) + amount > rules.dailyLimitUser)
    throw new WithdrawalRefusal('DAILY_LIMIT_USER', "this withdrawal would pass the user's daily limit", {
      limit: toUnits(rules.dailyLimitUser),
      used: user_total,
    });
  if (BigInt(day_total) + amount > rules.dailyLimitGlobal)
    throw new WithdrawalRefusal('DAILY_LIMIT_GLOBAL', "the platform's daily withdrawal limit is reached", {
      limit: toUnits(rules.dailyLimitGlobal),
    });
}

export interface RequestResult {
  withdrawal: WithdrawalRecord;
  created: boolean;
}

async function existing(client: pg.Pool | pg.PoolClient, userId: string, key: string, hash: string) {
  const { rows } = await client.query<WithdrawalRow>(
    `SELECT ${COLUMNS} FROM withdrawals WHERE user_id = $1 AND idempotency_key = $2`,
    [userId, key],
  );
  const row = rows[0];
  if (!row) return undefined;
  if (row.request_hash !== hash)
    throw new WithdrawalRefusal(
      'IDEMPOTENCY_CONFLICT',
      'this idempotency key was used for another request',
      { withdrawalId: row.id },
      409,
    );
  return { withdrawal: toRecord(row), created: false };
}

/**
 * Holds amount + fee and records the withdrawal, or answers what the same key answered before. The user's account
 * row is locked first, so this user's concurrent requests queue: the daily limit and the balance are checked
 * against everything committed before, and the balance CHECK makes an overdraft impossible anyway.
 */
export async function requestWithdrawal(
  pool: pg.Pool,
  system: SystemAccounts,
  rules: WithdrawalRules,
  user: UserRecord,
  amount: bigint,
  idempotencyKey: string,
  available: bigint,
): Promise<RequestResult> {
  const hash = requestHash(amount);
  const first = await existing(pool, user.id, idempotencyKey, hash);
  if (first) return first;
  const quote = checkRequest(rules, user, amount, available);
  try {
    return await inTransaction(pool, async (client) => {
      await client.query({
        name: 'ledger.withdraw.lock',
        text: `SELECT 1 FROM accounts WHERE user_id = $1 AND kind = 'user_available' FOR UPDATE`,
        values: [user.id],
      });
      const { rows } = await client.query<WithdrawalRow & { recent: string }>({
        name: 'ledger.withdraw.insert',
        text: `WITH recent AS (
                 SELECT COALESCE(SUM(amount), 0) AS total FROM withdrawals
                 WHERE user_id = $1 AND created_at > now() - interval '24 hours'
                   AND status IN ('pending_approval', 'approved', 'paid')
               )
               INSERT INTO withdrawals (user_id, amount, fee, destination, status, idempotency_key, request_hash)
               SELECT $1, $2, $3, $4, $5, $6, $7 FROM recent WHERE recent.total + $2::numeric <= $8::numeric
               ON CONFLICT (user_id, idempotency_key) DO NOTHING
               RETURNING ${COLUMNS}`,
        values: [
          user.id,
          quote.amount.toString(),
          quote.fee.toString(),
          quote.destination,
          quote.needsApproval ? 'pending_approval' : 'approved',
          idempotencyKey,
          hash,
          rules.dailyLimitUser.toString(),
        ],
      });
      const row = rows[0];
      if (!row) {
        // The same key committed meanwhile, or the user's daily limit is reached.
        const same = await existing(client, user.id, idempotencyKey, hash);
        if (same) return same;
        throw new WithdrawalRefusal('DAILY_LIMIT_USER', "this withdrawal would pass the user's daily limit", {
          limit: toUnits(rules.dailyLimitUser),
        });
      }
      const day = await client.query({
        name: 'ledger.withdraw.day',
        text: `INSERT INTO withdrawal_days (day, total) SELECT (now() AT TIME ZONE 'UTC')::date, $1::numeric WHERE $1::numeric <= $2::numeric
               ON CONFLICT (day) DO UPDATE SET total = withdrawal_days.total + EXCLUDED.total
               WHERE withdrawal_days.total + EXCLUDED.total <= $2::numeric`,
        values: [quote.amount.toString(), rules.dailyLimitGlobal.toString()],
      });
      if (day.rowCount !== 1)
        throw new WithdrawalRefusal('DAILY_LIMIT_GLOBAL', "the platform's daily withdrawal limit is reached", {
          limit: toUnits(rules.dailyLimitGlobal),
        });
      const withdrawal = toRecord(row);
      await postTransfers(client, system, [holdTransfer(withdrawal)]);
      await enqueue(client, LEDGER_OUTBOX, [
        notify(`withdrawal-requested:${withdrawal.id}`, withdrawal.userId, 'withdrawal.requested', {
          withdrawalId: withdrawal.id,
          amount: withdrawal.amount,
          fee: withdrawal.fee,
          destination: withdrawal.destination,
        }),
        ...announcements(withdrawal),
      ]);
      return { withdrawal, created: true };
    });
  } catch (error) {
    if (INSUFFICIENT(error))
      throw new WithdrawalRefusal('INSUFFICIENT_FUNDS', 'the available balance does not cover amount and fee');
    throw error;
  }
}

const total = (w: WithdrawalRecord) => BigInt(w.amount) + BigInt(w.fee);

function holdTransfer(w: WithdrawalRecord): TransferSpec {
  return {
    kind: 'withdrawal_hold',
    reference: `withdrawal_hold:${w.id}`,
    withdrawalId: w.id,
    legs: [
      { account: { userId: w.userId, kind: AccountKind.userAvailable }, amount: -total(w) },
      { account: { userId: w.userId, kind: AccountKind.userHeld }, amount: total(w) },
    ],
  };
}

/** Paid on chain: held → payouts clearing (the amount) and → withdrawal fees (the fee). */
function postTransfer(w: WithdrawalRecord): TransferSpec {
  return {
    kind: 'withdrawal_post',
    reference: `withdrawal_resolution:${w.id}`,
    withdrawalId: w.id,
    legs: [
      { account: { userId: w.userId, kind: AccountKind.userHeld }, amount: -total(w) },
      { account: { system: AccountKind.payoutsClearing }, amount: BigInt(w.amount) },
      { account: { system: AccountKind.withdrawalFees }, amount: BigInt(w.fee) },
    ],
  };
}

/** Not paid: held → available, amount and fee. */
function voidTransfer(w: WithdrawalRecord): TransferSpec {
  return {
    kind: 'withdrawal_void',
    reference: `withdrawal_resolution:${w.id}`,
    withdrawalId: w.id,
    legs: [
      { account: { userId: w.userId, kind: AccountKind.userHeld }, amount: -total(w) },
      { account: { userId: w.userId, kind: AccountKind.userAvailable }, amount: total(w) },
    ],
  };
}

export async function findWithdrawal(db: pg.Pool | pg.PoolClient, id: string): Promise<WithdrawalRecord | undefined> {
  const { rows } = await db.query<WithdrawalRow>(`SELECT ${COLUMNS} FROM withdrawals WHERE id = $1`, [id]);
  return rows[0] ? toRecord(rows[0]) : undefined;
}

export async function listWithdrawals(
  pool: pg.Pool,
  filter: { userId?: string; status?: WithdrawalStatus; limit: number },
): Promise<WithdrawalRecord[]> {
  const { rows } = await pool.query<WithdrawalRow>(
    `SELECT ${COLUMNS} FROM withdrawals WHERE ($1::bigint IS NULL OR user_id = $1) AND ($2::text IS NULL OR status = $2)
     ORDER BY id DESC LIMIT $3`,
    [filter.userId ?? null, filter.status ?? null, filter.limit],
  );
  return rows.map(toRecord);
}

export interface Transition {
  from: readonly WithdrawalStatus[];
  to: WithdrawalStatus;
  /** The journal entry of the move, if it resolves the hold. */
  resolution?: 'post' | 'void';
  decidedBy?: string;
  reason?: string;
  txHash?: string;
  /** Messages of the new state (beyond the standard announcements). */
  messages?(w: WithdrawalRecord): OutboxMessage[];
}

/**
 * Moves a withdrawal from one of `from` to `to` once: a repeat of a move already made answers the current state
 * (idempotent), any other state is refused.
 */
export async function transition(
  pool: pg.Pool,
  system: SystemAccounts,
  withdrawalId: string,
  step: Transition,
): Promise<{ withdrawal: WithdrawalRecord; changed: boolean }> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<WithdrawalRow>(
      `UPDATE withdrawals SET status = $2,
         decided_by = COALESCE($3, decided_by), decided_at = CASE WHEN $3::text IS NULL THEN decided_at ELSE now() END,
         reject_reason = COALESCE($4, reject_reason), tx_hash = COALESCE($5, tx_hash),
         resolved_at = CASE WHEN $6 THEN now() ELSE resolved_at END
       WHERE id = $1 AND status = ANY($7::text[])
       RETURNING ${COLUMNS}`,
      [
        withdrawalId,
        step.to,
        step.decidedBy ?? null,
        step.reason ?? null,
        step.txHash ?? null,
        step.resolution !== undefined,
        step.from,
      ],
    );
    const row = rows[0];
    if (!row) {
      const current = await findWithdrawal(client, withdrawalId);
      if (!current) throw new WithdrawalRefusal('WITHDRAWAL_NOT_FOUND', 'no such withdrawal', {}, 404);
      if (current.status === step.to) return { withdrawal: current, changed: false };
      throw new WithdrawalRefusal(
        'WITHDRAWAL_STATE',
        `the withdrawal is ${current.status}`,
        { status: current.status },
        409,
      );
    }
    const withdrawal = toRecord(row);
    if (step.resolution === 'post') await postTransfers(client, system, [postTransfer(withdrawal)]);
    if (step.resolution === 'void') {
      await postTransfers(client, system, [voidTransfer(withdrawal)]);
      // Never paid out: its amount leaves the global limit of the day it was requested on.
      await client.query({
        name: 'ledger.withdraw.release-day',
        text: `UPDATE withdrawal_days d SET total = d.total - w.amount FROM withdrawals w
               WHERE w.id = $1 AND d.day = (w.created_at AT TIME ZONE 'UTC')::date`,
        values: [withdrawalId],
      });
    }
    await enqueue(client, LEDGER_OUTBOX, [...announcements(withdrawal), ...(step.messages?.(withdrawal) ?? [])]);
    return { withdrawal, changed: true };
  });
}

export const OPEN_STATUSES = OPEN;

/** The user's message for a state that needs no other announcement. */
export const userMessages = {
  rejected: (reason: string) => (w: WithdrawalRecord) => [
    notify(`withdrawal-rejected:${w.id}`, w.userId, 'withdrawal.rejected', {
      withdrawalId: w.id,
      amount: w.amount,
      reason,
    }),
  ],
  cancelled: () => (w: WithdrawalRecord) => [
    notify(`withdrawal-cancelled:${w.id}`, w.userId, 'withdrawal.cancelled', { withdrawalId: w.id, amount: w.amount }),
  ],
  simulated: () => (w: WithdrawalRecord) => [
    notify(`withdrawal-simulated:${w.id}`, w.userId, 'withdrawal.simulated', { withdrawalId: w.id, amount: w.amount }),
    outboxMessage(NotifierChannels.adminAlert, {
      id: `withdrawal-simulated:${w.id}`,
      template: 'admin.withdrawal_simulated',
      params: { withdrawalId: w.id, amount: w.amount, userId: w.userId, destination: w.destination },
    }),
  ],
  voided: (reason: string) => (w: WithdrawalRecord) => [
    notify(`withdrawal-voided:${w.id}`, w.userId, 'withdrawal.voided', {
      withdrawalId: w.id,
      amount: w.amount,
      reason,
    }),
  ],
  confirmed: (txHash: string) => (w: WithdrawalRecord) => [
    notify(`withdrawal-confirmed:${w.id}`, w.userId, 'withdrawal.confirmed', {
      withdrawalId: w.id,
      amount: w.amount,
      txHash,
    }),
  ],
};

/** Every move after the request, as the ledger's actions (admins, the user) and the payout's completions make it. */
export const withdrawalSteps = {
  approve: (admin: string): Transition => ({ from: ['pending_approval'], to: 'approved', decidedBy: admin }),
  reject: (admin: string, reason: string): Transition => ({
    from: ['pending_approval'],
    to: 'rejected',
    resolution: 'void',
    decidedBy: admin,
    reason,
    messages: userMessages.rejected(reason),
  }),
  cancel: (): Transition => ({
    from: ['pending_approval'],
    to: 'cancelled',
    resolution: 'void',
    messages: userMessages.cancelled(),
  }),
  void: (admin: string, reason: string): Transition => ({
    from: ['approved'],
    to: 'voided',
    resolution: 'void',
    decidedBy: admin,
    reason,
    messages: userMessages.voided(reason),
  }),
  paid: (txHash: string): Transition => ({
    from: ['approved'],
    to: 'paid',
    resolution: 'post',
    txHash,
    messages: userMessages.confirmed(txHash),
  }),
  simulated: (): Transition => ({
    from: ['approved'],
    to: 'simulated',
    resolution: 'void',
    messages: userMessages.simulated(),
  }),
};
