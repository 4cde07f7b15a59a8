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
import { answer, GroupCommit, refuse, unwrap, type Outcome } from './group-commit';
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
  idempotency_key: string;
}

const COLUMNS =
  'id::text, user_id::text, amount::text, fee::text, destination, status, request_hash, decided_by, reject_reason, tx_hash, created_at, idempotency_key';

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

const userLimitReached = (rules: WithdrawalRules, used: bigint) =>
  new WithdrawalRefusal('DAILY_LIMIT_USER', "this withdrawal would pass the user's daily limit", {
    limit: toUnits(rules.dailyLimitUser),
    used: used.toString(),
  });

const globalLimitReached = (rules: WithdrawalRules) =>
  new WithdrawalRefusal('DAILY_LIMIT_GLOBAL', "the platform's daily withdrawal limit is reached", {
    limit: toUnits(rules.dailyLimitGlobal),
  });

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
  if (BigInt(user_total) + amount > rules.dailyLimitUser) throw userLimitReached(rules, BigInt(user_total));
  if (BigInt(day_total) + amount > rules.dailyLimitGlobal) throw globalLimitReached(rules);
}

export interface RequestResult {
  withdrawal: WithdrawalRecord;
  created: boolean;
}

export interface HoldRequest {
  user: UserRecord;
  amount: bigint;
  idempotencyKey: string;
}

const idempotencyConflict = (withdrawalId: string) =>
  new WithdrawalRefusal(
    'IDEMPOTENCY_CONFLICT',
    'this idempotency key was used for another request',
    { withdrawalId },
    409,
  );

/** The same key answers its first withdrawal; with another amount it is refused. */
function repeated(first: WithdrawalRecord, firstHash: string, hash: string): Outcome<RequestResult> {
  return firstHash === hash ? answer({ withdrawal: first, created: false }) : refuse(idempotencyConflict(first.id));
}

/**
 * Holds amount + fee and records a withdrawal for each request of a batch, in the caller's transaction, each decided
 * as if the requests came one after another in this order: a key already used answers its first withdrawal (or is
 * refused with another amount), and each new request is checked against the balance and the daily limits that the
 * ones before it left. Refused requests write nothing and the others commit. The users' account rows are locked
 * first (in id order, as every posting does), so what is read of these users after is final until commit (the balance
 * CHECK stands behind the arithmetic). The day's total is read unlocked and taken last, so the platform's one hot row
 * is held only across the commit: if others took it meanwhile, the batch is refused. A void gives to that total, so
 * the read may also be too high: a request is refused for the global limit only on the total read under its lock.
 */
export async function holdWithdrawals(
  client: pg.PoolClient,
  system: SystemAccounts,
  rules: WithdrawalRules,
  requests: readonly HoldRequest[],
): Promise<Outcome<RequestResult>[]> {
  const userIds = [...new Set(requests.map((r) => r.user.id))];
  const locked = await client.query<{ user_id: string; kind: string; balance: string }>({
    // Unnamed like the reads below: planned for the table as it is.
    text: `SELECT user_id::text, kind, balance::text FROM accounts
           WHERE user_id = ANY($1::bigint[]) AND kind IN ('user_available', 'user_held')
           ORDER BY user_id, kind FOR UPDATE`,
    values: [userIds],
  });
  // One row per key already used (or one row of nulls), each carrying the day's total and the users' recent totals.
  const committed = await client.query<
    { day_total: string; recent: Record<string, string> | null } & Partial<WithdrawalRow>
  >({
    // Unnamed, so planned for the table as it is: a plan cached while the table was young scans every row of a user
    // for each key, which a user with many withdrawals makes the slowest step. The status is a filter of the sum, so
    // only the (user, time) index can serve the lookup (not every recent withdrawal of the platform per user).
    text: `WITH recent AS (
             SELECT u.id AS user_id, s.total FROM unnest($1::bigint[]) AS u(id)
             CROSS JOIN LATERAL (
               SELECT SUM(amount) FILTER (WHERE status IN ('pending_approval', 'approved', 'paid')) AS total
               FROM withdrawals WHERE user_id = u.id AND created_at > now() - interval '24 hours'
             ) s
             WHERE s.total IS NOT NULL
           )
           SELECT (SELECT COALESCE(MAX(total), 0) FROM withdrawal_days WHERE day = (now() AT TIME ZONE 'UTC')::date)::text
                    AS day_total,
                  r.recent, e.*
           FROM (SELECT json_object_agg(user_id::text, total::text) AS recent FROM recent) r
           LEFT JOIN LATERAL (
             SELECT w.* FROM unnest($2::bigint[], $3::text[]) AS k(key_user, ikey)
             CROSS JOIN LATERAL (
               SELECT ${COLUMNS} FROM withdrawals WHERE user_id = k.key_user AND idempotency_key = k.ikey LIMIT 1
             ) w
           ) e ON true`,
    values: [userIds, requests.map((r) => r.user.id), requests.map((r) => r.idempotencyKey)],
  });
  const available = new Map(userIds.map((id) => [id, 0n]));
  for (const row of locked.rows)
    if (row.kind === AccountKind.userAvailable) available.set(row.user_id, BigInt(row.balance));
  const first = committed.rows[0]!;
  const recent = new Map(Object.entries(first.recent ?? {}).map(([id, sum]) => [id, BigInt(sum)]));
  const keyOf = (userId: string, key: string) => `${userId}\u0000${key}`;
  const used = new Map<string, WithdrawalRow>();
  for (const row of committed.rows)
    if (row.id) used.set(keyOf(row.user_id!, row.idempotency_key!), row as WithdrawalRow);

  /** Decides every request of the batch in order against the day's total given; writes nothing. */
  const decide = (dayTotal: bigint) => {
    const balances = new Map(available);
    const userTotals = new Map(recent);
    const outcomes: Outcome<RequestResult>[] = new Array(requests.length);
    /** New withdrawals by key, with the requests of this batch that repeat them. */
    const fresh = new Map<string, { index: number; quote: Quote; hash: string; repeats: number[] }>();
    let dayRefused = false;
    for (const [index, request] of requests.entries()) {
      const hash = requestHash(request.amount);
      const key = keyOf(request.user.id, request.idempotencyKey);
      const before = used.get(key);
      if (before) {
        outcomes[index] = repeated(toRecord(before), before.request_hash, hash);
        continue;
      }
      const earlier = fresh.get(key);
      if (earlier) {
        earlier.repeats.push(index);
        continue;
      }
      try {
        const userId = request.user.id;
        const quote = checkRequest(rules, request.user, request.amount, balances.get(userId)!);
        const userTotal = userTotals.get(userId) ?? 0n;
        if (userTotal + quote.amount > rules.dailyLimitUser) throw userLimitReached(rules, userTotal);
        if (dayTotal + quote.amount > rules.dailyLimitGlobal) {
          dayRefused = true;
          throw globalLimitReached(rules);
        }
        balances.set(userId, quote.available - quote.total);
        userTotals.set(userId, userTotal + quote.amount);
        dayTotal += quote.amount;
        fresh.set(key, { index, quote, hash, repeats: [] });
      } catch (error) {
        if (!(error instanceof WithdrawalRefusal)) throw error;
        outcomes[index] = refuse(error);
      }
    }
    return { outcomes, fresh, dayRefused };
  };
  let decided = decide(BigInt(first.day_total));
  if (decided.dayRefused) {
    // The platform is at its daily limit: the day's row is locked now, until commit, and the batch decided again on
    // what it holds (voids committed since the read may have given back enough).
    const { rows } = await client.query<{ total: string }>({
      name: 'ledger.withdraw.day-lock',
      text: `INSERT INTO withdrawal_days (day, total) VALUES ((now() AT TIME ZONE 'UTC')::date, 0)
             ON CONFLICT (day) DO UPDATE SET total = withdrawal_days.total RETURNING total::text`,
    });
    decided = decide(BigInt(rows[0]!.total));
  }
  const { outcomes, fresh } = decided;
  if (fresh.size === 0) return outcomes;

  const made = [...fresh.values()];
  const { rows } = await client.query<WithdrawalRow>({
    name: 'ledger.withdraw.insert',
    text: `WITH x AS (
             SELECT * FROM unnest($1::bigint[], $2::numeric[], $3::numeric[], $4::text[], $5::text[], $6::text[], $7::text[])
               WITH ORDINALITY AS x(user_id, amount, fee, destination, status, idempotency_key, request_hash, n)
           )
           INSERT INTO withdrawals (user_id, amount, fee, destination, status, idempotency_key, request_hash)
           SELECT user_id, amount, fee, destination, status, idempotency_key, request_hash FROM x ORDER BY n
           ON CONFLICT (user_id, idempotency_key) DO NOTHING
           RETURNING ${COLUMNS}`,
    values: [
      made.map((m) => requests[m.index]!.user.id),
      made.map((m) => m.quote.amount.toString()),
      made.map((m) => m.quote.fee.toString()),
      made.map((m) => m.quote.destination),
      made.map((m) => (m.quote.needsApproval ? 'pending_approval' : 'approved')),
      made.map((m) => requests[m.index]!.idempotencyKey),
      made.map((m) => m.hash),
    ],
  });
  // The account locks keep every other writer of these keys out, so a key taken meanwhile is a broken assumption.
  if (rows.length !== made.length) throw new Error('an idempotency key was taken while its user was locked');
  const byKey = new Map(rows.map((row) => [keyOf(row.user_id, row.idempotency_key), toRecord(row)]));
  const withdrawals = made.map((m) => {
    const request = requests[m.index]!;
    const withdrawal = byKey.get(keyOf(request.user.id, request.idempotencyKey))!;
    outcomes[m.index] = answer({ withdrawal, created: true });
    for (const again of m.repeats) outcomes[again] = repeated(withdrawal, m.hash, requestHash(requests[again]!.amount));
    return withdrawal;
  });
  await postTransfers(client, system, withdrawals.map(holdTransfer));
  await enqueue(
    client,
    LEDGER_OUTBOX,
    withdrawals.flatMap((withdrawal) => [
      notify(`withdrawal-requested:${withdrawal.id}`, withdrawal.userId, 'withdrawal.requested', {
        withdrawalId: withdrawal.id,
        amount: withdrawal.amount,
        fee: withdrawal.fee,
        destination: withdrawal.destination,
      }),
      ...announcements(withdrawal),
    ]),
  );
  // Last, so the platform's one hot row is held only across the commit. Unless it was locked above, the day's total
  // was read unlocked: if others took what it left meanwhile, the batch is refused here, and the group commit decides
  // each alone.
  const day = await client.query({
    name: 'ledger.withdraw.day',
    text: `INSERT INTO withdrawal_days (day, total) SELECT (now() AT TIME ZONE 'UTC')::date, $1::numeric WHERE $1::numeric <= $2::numeric
           ON CONFLICT (day) DO UPDATE SET total = withdrawal_days.total + EXCLUDED.total
           WHERE withdrawal_days.total + EXCLUDED.total <= $2::numeric`,
    values: [made.reduce((sum, m) => sum + m.quote.amount, 0n).toString(), rules.dailyLimitGlobal.toString()],
  });
  if (day.rowCount !== 1) throw globalLimitReached(rules);
  return outcomes;
}

/** One request in its own transaction: {@link holdWithdrawals} for a batch of one. */
export async function requestWithdrawal(
  pool: pg.Pool,
  system: SystemAccounts,
  rules: WithdrawalRules,
  user: UserRecord,
  amount: bigint,
  idempotencyKey: string,
): Promise<RequestResult> {
  const [outcome] = await inTransaction(pool, (client) =>
    holdWithdrawals(client, system, rules, [{ user, amount, idempotencyKey }]),
  );
  return unwrap(outcome!);
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

export interface Move {
  withdrawalId: string;
  step: Transition;
}

export interface MoveResult {
  withdrawal: WithdrawalRecord;
  changed: boolean;
}

/**
 * Moves each withdrawal of a batch from one of its step's `from` to its `to` once, in the caller's transaction: a
 * repeat of a move already made answers the current state (idempotent), any other state is refused, and the others
 * still move. The rows are locked in id order, so concurrent batches never deadlock. A withdrawal appears at most once
 * in a batch (the group commit keys moves by withdrawal). A void gives its amount back to the day's global total in
 * the same transaction.
 */
export async function moveWithdrawals(
  client: pg.PoolClient,
  system: SystemAccounts,
  moves: readonly Move[],
): Promise<Outcome<MoveResult>[]> {
  if (new Set(moves.map((m) => m.withdrawalId)).size !== moves.length)
    throw new Error('a withdrawal may move only once in a batch');
  const { rows } = await client.query<WithdrawalRow>({
    // Unnamed, so planned for the table as it is (a plan cached on a young table scans it whole).
    text: `WITH x AS (
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[])
               AS x(move_id, move_from, move_to, by_admin, why, paid_by, resolves)
           ), locked AS MATERIALIZED (
             SELECT w.id AS locked_id FROM withdrawals w JOIN x ON x.move_id = w.id ORDER BY w.id FOR NO KEY UPDATE OF w
           )
           UPDATE withdrawals SET status = x.move_to,
             decided_by = COALESCE(x.by_admin, decided_by),
             decided_at = CASE WHEN x.by_admin IS NULL THEN decided_at ELSE now() END,
             reject_reason = COALESCE(x.why, reject_reason), tx_hash = COALESCE(x.paid_by, tx_hash),
             resolved_at = CASE WHEN x.resolves THEN now() ELSE resolved_at END
           FROM x JOIN locked ON locked.locked_id = x.move_id
           WHERE withdrawals.id = x.move_id AND withdrawals.status = ANY(string_to_array(x.move_from, ','))
           RETURNING ${COLUMNS.split(', ')
             .map((column) => `withdrawals.${column}`)
             .join(', ')}`,
    values: [
      moves.map((m) => m.withdrawalId),
      moves.map((m) => m.step.from.join(',')),
      moves.map((m) => m.step.to),
      moves.map((m) => m.step.decidedBy ?? null),
      moves.map((m) => m.step.reason ?? null),
      moves.map((m) => m.step.txHash ?? null),
      moves.map((m) => m.step.resolution !== undefined),
    ],
  });
  const moved = new Map(rows.map((row) => [row.id, toRecord(row)]));
  const unmoved = moves.filter((m) => !moved.has(m.withdrawalId)).map((m) => m.withdrawalId);
  const current = new Map(
    unmoved.length === 0
      ? []
      : (
          await client.query<WithdrawalRow>(`SELECT ${COLUMNS} FROM withdrawals WHERE id = ANY($1::bigint[])`, [
            unmoved,
          ])
        ).rows.map((row) => [row.id, toRecord(row)]),
  );
  const transfers: TransferSpec[] = [];
  const messages: OutboxMessage[] = [];
  const voided: string[] = [];
  const outcomes = moves.map(({ withdrawalId, step }): Outcome<MoveResult> => {
    const withdrawal = moved.get(withdrawalId);
    if (!withdrawal) {
      const now = current.get(withdrawalId);
      if (!now) return refuse(new WithdrawalRefusal('WITHDRAWAL_NOT_FOUND', 'no such withdrawal', {}, 404));
      if (now.status === step.to) return answer({ withdrawal: now, changed: false });
      return refuse(
        new WithdrawalRefusal('WITHDRAWAL_STATE', `the withdrawal is ${now.status}`, { status: now.status }, 409),
      );
    }
    if (step.resolution === 'post') transfers.push(postTransfer(withdrawal));
    if (step.resolution === 'void') {
      transfers.push(voidTransfer(withdrawal));
      voided.push(withdrawal.id);
    }
    messages.push(...announcements(withdrawal), ...(step.messages?.(withdrawal) ?? []));
    return answer({ withdrawal, changed: true });
  });
  if (transfers.length > 0) await postTransfers(client, system, transfers);
  await enqueue(client, LEDGER_OUTBOX, messages);
  // Never paid out: a voided amount leaves the global limit of the day it was requested on. Last, so the day's row is
  // held only across the commit, and the days in order, so concurrent batches never deadlock.
  if (voided.length > 0)
    await client.query({
      name: 'ledger.withdraw.release-days',
      text: `WITH released AS (
               SELECT (created_at AT TIME ZONE 'UTC')::date AS day, SUM(amount) AS amount FROM withdrawals
               WHERE id = ANY($1::bigint[]) GROUP BY 1
             ), locked AS MATERIALIZED (
               SELECT d.day AS locked_day FROM withdrawal_days d JOIN released r ON r.day = d.day
               ORDER BY d.day FOR NO KEY UPDATE OF d
             )
             UPDATE withdrawal_days SET total = withdrawal_days.total - released.amount
             FROM released JOIN locked ON locked.locked_day = released.day
             WHERE withdrawal_days.day = released.day`,
      values: [voided],
    });
  return outcomes;
}

/** One move in its own transaction: {@link moveWithdrawals} for a batch of one. */
export async function transition(
  pool: pg.Pool,
  system: SystemAccounts,
  withdrawalId: string,
  step: Transition,
): Promise<MoveResult> {
  const [outcome] = await inTransaction(pool, (client) => moveWithdrawals(client, system, [{ withdrawalId, step }]));
  return unwrap(outcome!);
}

/**
 * The service's way in: holds and moves of concurrent callers are committed together (group-commit.ts), each with
 * its own answer, idempotency and refusal, so a hot row (one user's balance, the day's total) takes one turn per
 * batch instead of one per request.
 */
export class WithdrawalDesk {
  private readonly holds: GroupCommit<HoldRequest, RequestResult>;
  private readonly moves: GroupCommit<Move, MoveResult>;

  constructor(
    pool: pg.Pool,
    system: SystemAccounts,
    rules: WithdrawalRules,
    /** The group commit's bounds (its defaults: 100 a batch, two batches in flight). */
    { maxBatch, inFlight }: { maxBatch?: number; inFlight?: number } = {},
  ) {
    this.holds = new GroupCommit({
      pool,
      maxBatch,
      inFlight,
      run: (client, batch) => holdWithdrawals(client, system, rules, batch),
    });
    this.moves = new GroupCommit({
      pool,
      maxBatch,
      inFlight,
      key: (move) => move.withdrawalId,
      run: (client, batch) => moveWithdrawals(client, system, batch),
    });
  }

  request(user: UserRecord, amount: bigint, idempotencyKey: string): Promise<RequestResult> {
    return this.holds.submit({ user, amount, idempotencyKey });
  }

  move(withdrawalId: string, step: Transition): Promise<MoveResult> {
    return this.moves.submit({ withdrawalId, step });
  }

  /** Resolves once everything submitted so far is answered (before the pool closes). */
  async idle(): Promise<void> {
    await Promise.all([this.holds.idle(), this.moves.idle()]);
  }
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
