import { expect } from 'chai';
import { parseAmount, parseRate, RATE_SCALE } from '../../lib/money';
import { ensureSystemAccounts, type SystemAccounts } from '../../services/ledger/accounts';
import { checkLedger } from '../../services/ledger/checks';
import type { CreditRules } from '../../services/ledger/deposits';
import { userBalance } from '../../services/ledger/queries';
import { accrueRewards, hourlyReward } from '../../services/ledger/rewards';
import type { RewardRules } from '../../services/ledger/rules';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { creditTestDeposit } from '../support/deposits';

const usdt = (text: string) => parseAmount(text, 18);
const HOUR = 3_600_000;
const creditRules: CreditRules = { levelThresholds: [usdt('10'), usdt('100')], referralRates: [] };
/** 2.4% a day at level 1 (0.1% an hour), 4.8% at level 2. */
const rules: RewardRules = { dailyRates: [parseRate('0.024'), parseRate('0.048')], capPercent: undefined };
/** 10:00 UTC on a fixed day; deposits are credited at 10:20. */
const T0 = Date.UTC(2026, 10, 2, 10);

describe('rewards on PostgreSQL', () => {
  let db: TestDatabase;
  let system: SystemAccounts;

  beforeEach(async () => {
    db = await createTestDatabase('rewards');
    system = await ensureSystemAccounts(db.pool);
  });
  afterEach(async () => db.drop());

  async function deposit(userId: string, amount: bigint, creditedAt = new Date(T0 + 20 * 60_000)) {
    const { depositId } = await creditTestDeposit(db.pool, userId, amount, { rules: creditRules, notify: true });
    await db.pool.query('UPDATE deposits SET created_at = $2 WHERE id = $1', [depositId, creditedAt]);
    return depositId;
  }

  /** The first run starts with the hour before it: record 10:00 as done, so runs catch up from 11:00. */
  const catchUpFrom11 = () =>
    db.pool.query('INSERT INTO reward_periods (period_start, deposits, total) VALUES ($1, 0, 0)', [new Date(T0)]);
  const at = (hours: number, minutes = 1) => new Date(T0 + hours * HOUR + minutes * 60_000);
  const accrualRows = async () =>
    (
      await db.pool.query<{ deposit_id: string; period_start: Date; amount: string }>(
        'SELECT deposit_id::text, period_start, amount::text FROM reward_accruals ORDER BY period_start, deposit_id',
      )
    ).rows;

  it('loses nothing to rounding over a day: 24 hours add up to the daily rate', () => {
    const d = {
      id: '1',
      userId: '1',
      amount: 10_000_000_000_000_000_007n,
      level: 1,
      creditedAt: new Date(T0),
      accrued: 0n,
    };
    let sum = 0n;
    for (let h = 1; h <= 24; h++) sum += hourlyReward(d, new Date(T0 + h * HOUR), rules);
    expect(sum).to.equal((d.amount * rules.dailyRates[0]!) / RATE_SCALE);
    expect(hourlyReward(d, new Date(T0), rules)).to.equal(0n); // the hour it was credited in earns nothing
  });

  it('accrues each hour once with two runs at once, and a missed stretch late, once', async () => {
    const a = await deposit('1', usdt('50')); // level 1
    const b = await deposit('2', usdt('200')); // level 2
    await deposit('3', usdt('5')); // below level 1: no reward
    await catchUpFrom11();
    // Two replicas at 14:01: hours 11, 12 and 13 are complete.
    const runs = await Promise.all([
      accrueRewards(db.pool, system, rules, at(4)),
      accrueRewards(db.pool, system, rules, at(4)),
    ]);
    expect(runs.map((r) => r.hours).sort()).to.satisfy((h: number[]) => h[0]! + h[1]! === 3);
    // A restart, then nothing ran until 20:30: hours 14 to 19 are accrued late, once; a repeat changes nothing.
    await accrueRewards(db.pool, system, rules, at(10, 30));
    const again = await accrueRewards(db.pool, system, rules, at(10, 30));
    expect(again.hours).to.equal(0);
    const rows = await accrualRows();
    expect(rows).to.have.length(9 * 2);
    const hours = (id: string) => rows.filter((r) => r.deposit_id === id).map((r) => r.period_start.getTime());
    expect(hours(a)).to.deep.equal(Array.from({ length: 9 }, (_, i) => T0 + (i + 1) * HOUR));
    expect(hours(b)).to.deep.equal(hours(a));
    // 0.1% an hour of 50, 0.2% an hour of 200, for 9 hours, on top of the deposits.
    expect((await userBalance(db.prisma, '1')).available).to.equal(usdt('50') + usdt('0.45'));
    expect((await userBalance(db.prisma, '2')).available).to.equal(usdt('200') + usdt('3.6'));
    expect((await userBalance(db.prisma, '3')).available).to.equal(usdt('5'));
    const check = await checkLedger(db.pool);
    expect(check.problems).to.deep.equal([]);
    expect(check.totals.rewards).to.equal((usdt('0.45') + usdt('3.6')).toString());
  });

  it('stops at DEPOSIT_REWARD_CAP_PERCENT', async () => {
    await deposit('1', usdt('100'));
    await catchUpFrom11();
    const capped: RewardRules = { dailyRates: [parseRate('0.24'), parseRate('0.24')], capPercent: 3 };
    // 1% an hour up to 3% of 100: three hours and nothing after.
    await accrueRewards(db.pool, system, capped, at(8));
    expect((await userBalance(db.prisma, '1')).available).to.equal(usdt('103'));
    expect((await accrualRows()).map((r) => r.amount)).to.deep.equal([usdt('1'), usdt('1'), usdt('1')].map(String));
  });

  it('sends each user one summary when a UTC day ends, never hourly messages', async () => {
    await deposit('1', usdt('50'));
    await catchUpFrom11();
    await accrueRewards(db.pool, system, rules, at(15)); // to 01:01 the next day: hours 11..00
    const { rows } = await db.pool.query<{ payload: { id: string; template: string; params: { amount: string } } }>(
      "SELECT payload FROM ledger_outbox WHERE payload->>'template' = 'reward.daily_summary'",
    );
    expect(rows.map((r) => r.payload.id)).to.deep.equal(['reward-summary:1:2026-11-02']);
    // 11:00 to 23:00: 13 hours of 0.05.
    expect(rows[0]!.payload.params.amount).to.equal(usdt('0.65').toString());
  });

  it('records nothing while every rate is zero, and never pays for that time later', async () => {
    await deposit('1', usdt('50'));
    const off: RewardRules = { dailyRates: [0n, 0n], capPercent: undefined };
    expect((await accrueRewards(db.pool, system, off, at(5))).hours).to.equal(0);
    const on = await accrueRewards(db.pool, system, rules, at(8));
    expect(on).to.include({ hours: 1, firstHour: new Date(T0 + 7 * HOUR).toISOString() });
  });
});
