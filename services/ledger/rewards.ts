// Deposit rewards, accrued per hour. Each hour is one transaction that first claims its reward_periods row: a second
// replica (or a run repeated after a crash) finds the row taken and does nothing, and the hour's journal transfer
// has a unique reference besides. A run accrues every complete hour not accrued yet, oldest first, so an hour
// missed while nothing ran is accrued late, once (the first run starts with the hour before it). A deposit earns from the first full hour after its credit, at
// DEPOSIT_REWARD_RATE_LEVEL_<its level> a day, pro rata per hour with no rounding loss over a day (each hour takes
// the difference of the cumulative floors), up to DEPOSIT_REWARD_CAP_PERCENT of its amount. When an hour ends a UTC
// day, every user rewarded that day gets one summary message.
import type pg from 'pg';
import { NotifierChannels, outboxMessage, type NotificationRequestOf, type OutboxMessage } from '../../lib/contracts';
import { inTransaction } from '../../lib/db';
import { RATE_SCALE } from '../../lib/money';
import { enqueue } from '../../lib/outbox';
import { AccountKind, type SystemAccounts } from './accounts';
import { LEDGER_OUTBOX } from './deposits';
import { postTransfers } from './journal';
import type { RewardRules } from './rules';

const HOUR_MS = 3_600_000;
/** One run catches up at most this many hours; the next run goes on where it stopped. */
const MAX_HOURS_PER_RUN = 24 * 7;

export interface RewardDeposit {
  id: string;
  userId: string;
  amount: bigint;
  level: number;
  creditedAt: Date;
  accrued: bigint;
}

const hourOf = (t: Date) => new Date(Math.floor(t.getTime() / HOUR_MS) * HOUR_MS);

/** What a deposit earns in the hour starting at `period` (0 before its first full hour or past its cap). */
export function hourlyReward(d: RewardDeposit, period: Date, rules: RewardRules): bigint {
  const rate = rules.dailyRates[d.level - 1] ?? 0n;
  if (rate === 0n) return 0n;
  const k = BigInt(Math.round((period.getTime() - hourOf(d.creditedAt).getTime()) / HOUR_MS) - 1);
  if (k < 0n) return 0n;
  const perDay = d.amount * rate;
  const scale = 24n * RATE_SCALE;
  let reward = (perDay * (k + 1n)) / scale - (perDay * k) / scale;
  if (rules.capPercent !== undefined) {
    const cap = (d.amount * BigInt(rules.capPercent)) / 100n;
    const left = cap > d.accrued ? cap - d.accrued : 0n;
    if (reward > left) reward = left;
  }
  return reward;
}

export interface RewardRunSummary {
  hours: number;
  accrued: string;
  firstHour: string | null;
  lastHour: string | null;
}

/** Accrues every complete hour up to `now` that is not accrued yet. */
export async function accrueRewards(
  pool: pg.Pool,
  system: SystemAccounts,
  rules: RewardRules,
  now: Date = new Date(),
): Promise<RewardRunSummary> {
  const summary: RewardRunSummary = { hours: 0, accrued: '0', firstHour: null, lastHour: null };
  if (rules.dailyRates.every((r) => r === 0n)) return summary;
  const last = new Date(hourOf(now).getTime() - HOUR_MS);
  let next = await firstOpenHour(pool, last);
  let total = 0n;
  for (let i = 0; i < MAX_HOURS_PER_RUN && next.getTime() <= last.getTime(); i++) {
    const accrued = await accrueHour(pool, system, rules, next);
    if (accrued !== undefined) {
      summary.hours++;
      total += accrued;
      summary.firstHour ??= next.toISOString();
      summary.lastHour = next.toISOString();
    }
    next = new Date(next.getTime() + HOUR_MS);
  }
  summary.accrued = total.toString();
  return summary;
}

/**
 * The hour after the last accrued one. Before the first run there is nothing to catch up on: rewards start with the
 * last complete hour (turning rewards on never pays for the time they were off).
 */
async function firstOpenHour(pool: pg.Pool, last: Date): Promise<Date> {
  const { rows } = await pool.query<{ last: Date | null }>('SELECT max(period_start) AS last FROM reward_periods');
  return rows[0]!.last ? new Date(rows[0]!.last.getTime() + HOUR_MS) : last;
}

/** One hour, once: undefined when another run has it already. */
async function accrueHour(
  pool: pg.Pool,
  system: SystemAccounts,
  rules: RewardRules,
  period: Date,
): Promise<bigint | undefined> {
  return inTransaction(pool, async (client) => {
    const claimed = await client.query(
      'INSERT INTO reward_periods (period_start, deposits, total) VALUES ($1, 0, 0) ON CONFLICT DO NOTHING',
      [period],
    );
    if (claimed.rowCount !== 1) return undefined;
    const { rows } = await client.query<{
      id: string;
      user_id: string;
      amount: string;
      level: number;
      created_at: Date;
      rewards_accrued: string;
    }>(
      `SELECT id::text, user_id::text, amount::text, level, created_at, rewards_accrued::text FROM deposits
       WHERE reorged_at IS NULL AND level > 0 AND created_at < $1 ORDER BY id FOR UPDATE`,
      [period],
    );
    const accruals = rows
      .map((row) => {
        const d: RewardDeposit = {
          id: row.id,
          userId: row.user_id,
          amount: BigInt(row.amount),
          level: row.level,
          creditedAt: row.created_at,
          accrued: BigInt(row.rewards_accrued),
        };
        return { deposit: d, amount: hourlyReward(d, period, rules) };
      })
      .filter((a) => a.amount > 0n);
    const total = accruals.reduce((sum, a) => sum + a.amount, 0n);
    if (total > 0n) {
      await client.query(
        `WITH a AS (SELECT * FROM unnest($2::bigint[], $3::bigint[], $4::numeric[]) AS a(deposit_id, user_id, amount)),
         ins AS (INSERT INTO reward_accruals (deposit_id, period_start, user_id, amount)
                 SELECT deposit_id, $1, user_id, amount FROM a)
         UPDATE deposits d SET rewards_accrued = d.rewards_accrued + a.amount FROM a WHERE d.id = a.deposit_id`,
        [
          period,
          accruals.map((a) => a.deposit.id),
          accruals.map((a) => a.deposit.userId),
          accruals.map((a) => a.amount.toString()),
        ],
      );
      const byUser = new Map<string, bigint>();
      for (const a of accruals) byUser.set(a.deposit.userId, (byUser.get(a.deposit.userId) ?? 0n) + a.amount);
      await postTransfers(client, system, [
        {
          kind: 'reward',
          reference: `reward:${period.toISOString()}`,
          legs: [
            { account: { system: AccountKind.rewardExpense }, amount: -total },
            ...[...byUser].map(([userId, amount]) => ({
              account: { userId, kind: AccountKind.userAvailable },
              amount,
            })),
          ],
        },
      ]);
    }
    await client.query('UPDATE reward_periods SET deposits = $2, total = $3 WHERE period_start = $1', [
      period,
      accruals.length,
      total.toString(),
    ]);
    if (period.getUTCHours() === 23) await enqueue(client, LEDGER_OUTBOX, await dailySummaries(client, period));
    return total;
  });
}

/** Each user's rewards of the UTC day that ends with the hour `lastHour`, as one message. */
async function dailySummaries(client: pg.PoolClient, lastHour: Date): Promise<OutboxMessage[]> {
  const dayStart = new Date(lastHour.getTime() - 23 * HOUR_MS);
  const date = dayStart.toISOString().slice(0, 10);
  const { rows } = await client.query<{ user_id: string; total: string }>(
    `SELECT user_id::text, SUM(amount)::text AS total FROM reward_accruals
     WHERE period_start >= $1 AND period_start <= $2 GROUP BY user_id ORDER BY user_id`,
    [dayStart, lastHour],
  );
  return rows.map((row) => {
    const request: NotificationRequestOf<'reward.daily_summary'> = {
      id: `reward-summary:${row.user_id}:${date}`,
      userId: row.user_id,
      template: 'reward.daily_summary',
      params: { amount: row.total, date },
    };
    return outboxMessage(NotifierChannels.notificationRequested, request);
  });
}
