import { expect } from 'chai';
import type { UserRecord } from '../../lib/contracts';
import { parseAmount, parseRate } from '../../lib/money';
import { ensureSystemAccounts, type SystemAccounts } from '../../services/ledger/accounts';
import { checkLedger } from '../../services/ledger/checks';
import type { CreditRules } from '../../services/ledger/deposits';
import { userBalance } from '../../services/ledger/queries';
import { inTransaction } from '../../lib/db';
import type { Outcome } from '../../services/ledger/group-commit';
import {
  holdWithdrawals,
  moveWithdrawals,
  requestWithdrawal,
  transition,
  userMessages,
  WithdrawalDesk,
  WithdrawalRefusal,
  withdrawalSteps,
  type HoldRequest,
  type Move,
  type Transition,
  type WithdrawalRules,
} from '../../services/ledger/withdrawals';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { creditTestDeposit } from '../support/deposits';
import { userRecord } from '../support/user-record';

const usdt = (text: string) => parseAmount(text, 18);
const creditRules: CreditRules = { levelThresholds: [usdt('10')], referralRates: [parseRate('0.05')] };
const rules: WithdrawalRules = {
  minimum: usdt('10'),
  fee: usdt('1'),
  autoApproveLimit: usdt('100'),
  dailyLimitUser: usdt('5000'),
  dailyLimitGlobal: usdt('50000'),
  walletCooldownMs: 24 * 3_600_000,
};

async function refusal(promise: Promise<unknown>): Promise<WithdrawalRefusal> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WithdrawalRefusal) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('withdrawals on PostgreSQL', () => {
  let db: TestDatabase;
  let system: SystemAccounts;

  beforeEach(async () => {
    db = await createTestDatabase('withdrawals');
    system = await ensureSystemAccounts(db.pool);
  });
  afterEach(async () => db.drop());

  async function fund(userId: string, amount: bigint) {
    await creditTestDeposit(db.pool, userId, amount, { rules: creditRules, notify: true });
  }

  const request = (u: UserRecord, amount: bigint, key: string) =>
    requestWithdrawal(db.pool, system, rules, u, amount, key);
  const outbox = async (channel: string) =>
    (
      await db.pool.query<{ payload: Record<string, unknown> }>(
        'SELECT payload FROM ledger_outbox WHERE channel = $1 ORDER BY id',
        [channel],
      )
    ).rows.map((r) => r.payload);

  it('holds amount and fee, answers a repeated key with the first withdrawal and refuses it with another amount', async () => {
    await fund('1', usdt('100'));
    const first = await request(userRecord('1'), usdt('40'), 'dialog-1');
    expect(first.created).to.equal(true);
    expect(first.withdrawal.status).to.equal('approved');
    expect(await userBalance(db.prisma, '1')).to.deep.equal({ available: usdt('59'), held: usdt('41') });

    const again = await request(userRecord('1'), usdt('40'), 'dialog-1');
    expect(again).to.deep.equal({ withdrawal: first.withdrawal, created: false });
    expect((await refusal(request(userRecord('1'), usdt('30'), 'dialog-1'))).type).to.equal('IDEMPOTENCY_CONFLICT');
    expect(await userBalance(db.prisma, '1')).to.deep.equal({ available: usdt('59'), held: usdt('41') });

    const approved = await outbox('withdrawals.approved');
    expect(approved).to.have.length(1);
    expect(approved[0]).to.include({ withdrawalId: first.withdrawal.id, amount: usdt('40').toString() });
    expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
  });

  it('refuses what the rules forbid, changing nothing', async () => {
    await fund('2', usdt('30'));
    const cases: [UserRecord, bigint, string][] = [
      [userRecord('2'), usdt('9.99'), 'WITHDRAWAL_BELOW_MINIMUM'],
      [userRecord('2', { walletAddress: null }), usdt('10'), 'NO_WALLET'],
      [
        userRecord('2', { walletChangedAt: new Date(Date.now() - 3_600_000).toISOString() }),
        usdt('10'),
        'WALLET_COOLDOWN',
      ],
      [userRecord('2'), usdt('29.5'), 'INSUFFICIENT_FUNDS'],
    ];
    for (const [u, amount, type] of cases)
      expect((await refusal(request(u, amount, `k-${type}`))).type, type).to.equal(type);
    // A wallet changed longer ago than the cooldown is fine.
    const old = userRecord('2', { walletChangedAt: new Date(Date.now() - 25 * 3_600_000).toISOString() });
    expect((await request(old, usdt('10'), 'ok')).created).to.equal(true);
    expect((await db.pool.query('SELECT 1 FROM withdrawals')).rowCount).to.equal(1);
  });

  it('never overdraws one balance under 200 concurrent requests', async () => {
    await fund('3', usdt('1000'));
    // Each takes 11 (10 + fee 1): 90 fit into 1000.
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        // Each is decided against the balance as it is under the user's lock.
        requestWithdrawal(db.pool, system, rules, userRecord('3'), usdt('10'), `c-${i}`),
      ),
    );
    const created = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(created).to.have.length(90);
    for (const r of refused) expect((r.reason as WithdrawalRefusal).type).to.equal('INSUFFICIENT_FUNDS');
    expect(await userBalance(db.prisma, '3')).to.deep.equal({ available: usdt('10'), held: usdt('990') });
    expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
  });

  it('enforces the per-user and the global daily limit', async () => {
    const tight = { ...rules, dailyLimitUser: usdt('50'), dailyLimitGlobal: usdt('80') };
    await fund('4', usdt('500'));
    await fund('5', usdt('500'));
    const ask = (id: string, amount: string, key: string) =>
      requestWithdrawal(db.pool, system, tight, userRecord(id), usdt(amount), key);
    await ask('4', '30', 'a');
    expect((await refusal(ask('4', '21', 'b'))).type).to.equal('DAILY_LIMIT_USER');
    await ask('4', '20', 'c');
    await ask('5', '30', 'd');
    expect((await refusal(ask('5', '10', 'e'))).type).to.equal('DAILY_LIMIT_GLOBAL');
    // A refusal rolls back its hold.
    expect(await userBalance(db.prisma, '5')).to.deep.equal({ available: usdt('469'), held: usdt('31') });
    expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
  });

  it('counts only what may still be paid against the global daily limit: cancelled, rejected, simulated and voided give it back', async () => {
    const tight = { ...rules, autoApproveLimit: usdt('20'), dailyLimitUser: usdt('80'), dailyLimitGlobal: usdt('80') };
    await fund('4', usdt('500'));
    await fund('5', usdt('500'));
    const ask = async (id: string, amount: string, key: string) =>
      (await requestWithdrawal(db.pool, system, tight, userRecord(id), usdt(amount), key)).withdrawal;
    const move = (w: { id: string }, step: Transition) => transition(db.pool, system, w.id, step);
    await move(await ask('4', '50', 'a'), withdrawalSteps.cancel());
    await move(await ask('4', '50', 'b'), withdrawalSteps.reject('42', 'no'));
    const simulated = await ask('5', '60', 'c');
    await move(simulated, withdrawalSteps.approve('42'));
    await move(simulated, withdrawalSteps.simulated());
    const voided = await ask('5', '70', 'd');
    await move(voided, withdrawalSteps.approve('42'));
    await move(voided, withdrawalSteps.void('42', 'payout dead'));
    // 230 requested today, none of it paid or payable: the whole limit is left.
    expect((await ask('4', '80', 'e')).status).to.equal('pending_approval');
    expect((await refusal(ask('5', '10', 'f'))).type).to.equal('DAILY_LIMIT_GLOBAL');
    const { rows } = await db.pool.query<{ total: string }>('SELECT total::text FROM withdrawal_days');
    expect(rows).to.deep.equal([{ total: usdt('80').toString() }]);
    expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
  });

  it('waits for an admin above the auto-approval limit; rejecting returns the funds once', async () => {
    await fund('6', usdt('500'));
    const { withdrawal } = await request(userRecord('6'), usdt('150'), 'big');
    expect(withdrawal.status).to.equal('pending_approval');
    expect(await outbox('withdrawals.approved')).to.have.length(0);
    expect((await outbox('alerts.raised'))[0]).to.include({ template: 'admin.withdrawal_pending' });

    const reject = {
      from: ['pending_approval'] as const,
      to: 'rejected' as const,
      resolution: 'void' as const,
      decidedBy: '42',
      reason: 'unusual',
      messages: userMessages.rejected('unusual'),
    };
    const first = await transition(db.pool, system, withdrawal.id, reject);
    expect(first.changed).to.equal(true);
    expect(first.withdrawal).to.include({ status: 'rejected', rejectReason: 'unusual', decidedBy: '42' });
    expect((await transition(db.pool, system, withdrawal.id, reject)).changed).to.equal(false);
    expect(await userBalance(db.prisma, '6')).to.deep.equal({ available: usdt('500'), held: 0n });
    const approve = { from: ['pending_approval'] as const, to: 'approved' as const };
    expect((await refusal(transition(db.pool, system, withdrawal.id, approve))).type).to.equal('WITHDRAWAL_STATE');
    expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
  });

  it('posts a paid withdrawal once and refuses to void it after', async () => {
    await fund('7', usdt('100'));
    const { withdrawal } = await request(userRecord('7'), usdt('50'), 'pay');
    const txHash = `0x${'ab'.repeat(32)}`;
    const pay = { from: ['approved'] as const, to: 'paid' as const, resolution: 'post' as const, txHash };
    expect((await transition(db.pool, system, withdrawal.id, pay)).withdrawal.txHash).to.equal(txHash);
    expect((await transition(db.pool, system, withdrawal.id, pay)).changed).to.equal(false);
    const voiding = { from: ['approved'] as const, to: 'voided' as const, resolution: 'void' as const };
    expect((await refusal(transition(db.pool, system, withdrawal.id, voiding))).type).to.equal('WITHDRAWAL_STATE');
    expect(await userBalance(db.prisma, '7')).to.deep.equal({ available: usdt('49'), held: 0n });
    const check = await checkLedger(db.pool);
    expect(check.problems).to.deep.equal([]);
    expect(check.totals).to.include({ payoutsClearing: usdt('50').toString(), withdrawalFees: usdt('1').toString() });
  });

  describe('in batches (one transaction for many requests, each with its own answer)', () => {
    const hold = (userId: string, amount: string, key: string): HoldRequest => ({
      user: userRecord(userId),
      amount: usdt(amount),
      idempotencyKey: key,
    });
    const holds = (batch: HoldRequest[], batchRules = rules) =>
      inTransaction(db.pool, (client) => holdWithdrawals(client, system, batchRules, batch));
    const moves = (batch: Move[]) => inTransaction(db.pool, (client) => moveWithdrawals(client, system, batch));
    const refusalType = (outcome: Outcome<unknown>) =>
      outcome.ok ? 'answered' : (outcome.error as WithdrawalRefusal).type;
    const heldIds = (outcomes: Outcome<{ withdrawal: { id: string } }>[]) =>
      outcomes.map((o) => (o.ok ? o.value.withdrawal.id : undefined));

    it('refuses alone the request that would overdraw, and commits the ones before and after it', async () => {
      await fund('11', usdt('100'));
      // 51 of 100, then 61 does not fit the 49 left, then 41 does.
      const outcomes = await holds([hold('11', '50', 'a'), hold('11', '60', 'b'), hold('11', '40', 'c')]);
      expect(outcomes.map(refusalType)).to.deep.equal(['answered', 'INSUFFICIENT_FUNDS', 'answered']);
      expect(await userBalance(db.prisma, '11')).to.deep.equal({ available: usdt('8'), held: usdt('92') });
      expect((await db.pool.query('SELECT 1 FROM withdrawals WHERE user_id = 11')).rowCount).to.equal(2);
      expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
    });

    it('answers a key repeated in one batch with its first withdrawal, and refuses it with another amount', async () => {
      await fund('12', usdt('100'));
      const outcomes = await holds([
        hold('12', '20', 'same'),
        hold('12', '20', 'same'),
        hold('12', '30', 'same'),
        hold('12', '10', 'other'),
      ]);
      expect(outcomes.map(refusalType)).to.deep.equal(['answered', 'answered', 'IDEMPOTENCY_CONFLICT', 'answered']);
      const [first, again] = outcomes as { ok: true; value: { withdrawal: { id: string }; created: boolean } }[];
      expect(first!.value.created).to.equal(true);
      expect(again!.value).to.deep.equal({ withdrawal: first!.value.withdrawal, created: false });
      // Held once: 21 + 11.
      expect(await userBalance(db.prisma, '12')).to.deep.equal({ available: usdt('68'), held: usdt('32') });
      // A later batch with the committed key answers the same withdrawal.
      const later = await holds([hold('12', '20', 'same')]);
      expect(heldIds(later)).to.deep.equal([first!.value.withdrawal.id]);
      expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
    });

    it('decides afresh a key whose first request in the batch was refused, as one after the other would', async () => {
      await fund('13', usdt('50'));
      const outcomes = await holds([hold('13', '80', 'k'), hold('13', '30', 'k')]);
      expect(outcomes.map(refusalType)).to.deep.equal(['INSUFFICIENT_FUNDS', 'answered']);
      expect(await userBalance(db.prisma, '13')).to.deep.equal({ available: usdt('19'), held: usdt('31') });
    });

    it('counts the requests before in the batch against the daily limits', async () => {
      await fund('14', usdt('500'));
      await fund('15', usdt('500'));
      const tight = { ...rules, dailyLimitUser: usdt('50'), dailyLimitGlobal: usdt('80') };
      const outcomes = await holds(
        [
          hold('14', '30', 'a'),
          hold('14', '21', 'b'),
          hold('14', '20', 'c'),
          hold('15', '30', 'd'),
          hold('15', '10', 'e'),
        ],
        tight,
      );
      expect(outcomes.map(refusalType)).to.deep.equal([
        'answered',
        'DAILY_LIMIT_USER',
        'answered',
        'answered',
        'DAILY_LIMIT_GLOBAL',
      ]);
      expect(await userBalance(db.prisma, '15')).to.deep.equal({ available: usdt('469'), held: usdt('31') });
      expect((await db.pool.query<{ total: string }>('SELECT total::text FROM withdrawal_days')).rows).to.deep.equal([
        { total: usdt('80').toString() },
      ]);
    });

    it("refuses the whole batch when others took the day's total after it was read", async () => {
      await fund('16', usdt('500'));
      const tight = { ...rules, dailyLimitGlobal: usdt('100') };
      await db.pool.query(`INSERT INTO withdrawal_days (day, total) VALUES ((now() AT TIME ZONE 'UTC')::date, 0)`);
      // Another transaction holds the day's row and takes 85 of it while the batch decides on 0.
      const other = await db.pool.connect();
      try {
        await other.query('BEGIN');
        await other.query(`UPDATE withdrawal_days SET total = ${usdt('85')}`);
        const batch = holds([hold('16', '10', 'a'), hold('16', '10', 'b')], tight);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await other.query('COMMIT');
        expect((await refusal(batch)).type).to.equal('DAILY_LIMIT_GLOBAL');
      } finally {
        other.release();
      }
      expect(await userBalance(db.prisma, '16')).to.deep.equal({ available: usdt('500'), held: 0n });
      expect((await db.pool.query('SELECT 1 FROM withdrawals')).rowCount).to.equal(0);
    });

    it('refuses for the global limit only what does not fit the day total under its lock, a void committed meanwhile included', async () => {
      const tight = { ...rules, dailyLimitGlobal: usdt('100') };
      await fund('21', usdt('500'));
      await fund('22', usdt('500'));
      const dayTotal = async () =>
        (await db.pool.query<{ total: string }>('SELECT total::text FROM withdrawal_days')).rows.map((r) => r.total);
      /** Another replica voids `withdrawalId`: the day's total is given back, not yet committed, while `ask` reads it. */
      async function whileVoiding<T>(withdrawalId: string, ask: () => Promise<T>, end: 'COMMIT' | 'ROLLBACK') {
        const voiding = await db.pool.connect();
        try {
          await voiding.query('BEGIN');
          await moveWithdrawals(voiding, system, [{ withdrawalId, step: withdrawalSteps.void('42', 'payout dead') }]);
          let settled = false;
          const asked = ask().finally(() => (settled = true));
          void asked.catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, 300));
          // It read a total that leaves no room: it waits for the day's row instead of refusing on that read.
          expect(settled, 'decided before the day total was free').to.equal(false);
          await voiding.query(end);
          return await asked;
        } finally {
          voiding.release();
        }
      }
      const first = await requestWithdrawal(db.pool, system, tight, userRecord('21'), usdt('95'), 'first');
      // The void commits: 95 came back, so the batch is decided on 0 — 10 and 60 fit, 40 more would pass 100.
      const outcomes = await whileVoiding(
        first.withdrawal.id,
        () => holds([hold('22', '10', 'a'), hold('22', '60', 'b'), hold('22', '40', 'c')], tight),
        'COMMIT',
      );
      expect(outcomes.map(refusalType)).to.deep.equal(['answered', 'answered', 'DAILY_LIMIT_GLOBAL']);
      expect(await dayTotal()).to.deep.equal([usdt('70').toString()]);

      // The void rolls back: the 20 stays counted, and through the desk 15 is refused on what the row holds (90).
      const second = await requestWithdrawal(db.pool, system, tight, userRecord('21'), usdt('20'), 'second');
      const desk = new WithdrawalDesk(db.pool, system, tight);
      const refused = await whileVoiding(
        second.withdrawal.id,
        () => refusal(desk.request(userRecord('22'), usdt('15'), 'd')),
        'ROLLBACK',
      );
      expect(refused.type).to.equal('DAILY_LIMIT_GLOBAL');
      expect(await dayTotal()).to.deep.equal([usdt('90').toString()]);
      // And the 10 left still fit.
      expect((await desk.request(userRecord('22'), usdt('10'), 'e')).created).to.equal(true);
      expect(await dayTotal()).to.deep.equal([usdt('100').toString()]);
      expect(await userBalance(db.prisma, '22')).to.deep.equal({ available: usdt('417'), held: usdt('83') });
      expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
    });

    it('gives each amount a batch voids back to the global total of the day it was requested on', async () => {
      await fund('23', usdt('1000'));
      const [a, b, c, d, e, f] = heldIds(
        await holds([
          hold('23', '10', 'a'),
          hold('23', '20', 'b'),
          hold('23', '150', 'c'),
          hold('23', '40', 'd'),
          hold('23', '50', 'e'),
          hold('23', '120', 'f'),
        ]),
      ) as string[];
      // b was requested yesterday (UTC): its 20 counts on yesterday's total.
      await db.pool.query(`UPDATE withdrawals SET created_at = created_at - interval '1 day' WHERE id = $1`, [b]);
      await db.pool.query(`UPDATE withdrawal_days SET total = total - $1`, [usdt('20').toString()]);
      await db.pool.query(
        `INSERT INTO withdrawal_days (day, total) VALUES ((now() AT TIME ZONE 'UTC')::date - 1, $1)`,
        [usdt('20').toString()],
      );
      const totals = async () =>
        (await db.pool.query<{ total: string }>(`SELECT total::text FROM withdrawal_days ORDER BY day`)).rows.map(
          (r) => r.total,
        );
      expect(await totals()).to.deep.equal([usdt('20'), usdt('370')].map(String));
      const outcomes = await moves([
        { withdrawalId: a!, step: withdrawalSteps.simulated() },
        { withdrawalId: b!, step: withdrawalSteps.void('42', 'payout dead') },
        { withdrawalId: c!, step: withdrawalSteps.reject('42', 'no') },
        { withdrawalId: d!, step: withdrawalSteps.paid(`0x${'dd'.repeat(32)}`) },
        { withdrawalId: e!, step: withdrawalSteps.void('42', 'payout dead') },
        { withdrawalId: f!, step: withdrawalSteps.cancel() },
      ]);
      expect(outcomes.map(refusalType)).to.deep.equal(Array(6).fill('answered'));
      // Only the paid 40 still counts.
      expect(await totals()).to.deep.equal(['0', usdt('40').toString()]);
      // A repeat changes nothing, the totals included.
      await moves([{ withdrawalId: e!, step: withdrawalSteps.void('42', 'payout dead') }]);
      expect(await totals()).to.deep.equal(['0', usdt('40').toString()]);
      expect(await userBalance(db.prisma, '23')).to.deep.equal({ available: usdt('959'), held: 0n });
      expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
    });

    it('moves each withdrawal of a batch once, refusing alone the ones in another state', async () => {
      await fund('17', usdt('500'));
      const held = heldIds(
        await holds([hold('17', '10', 'a'), hold('17', '20', 'b'), hold('17', '150', 'c'), hold('17', '30', 'd')]),
      ) as string[];
      const [a, b, c, d] = held;
      const pay = (txHash: string) => ({
        from: ['approved'] as const,
        to: 'paid' as const,
        resolution: 'post' as const,
        txHash,
      });
      await moves([{ withdrawalId: d!, step: pay(`0x${'dd'.repeat(32)}`) }]);
      const outcomes = await moves([
        { withdrawalId: a!, step: pay(`0x${'aa'.repeat(32)}`) },
        { withdrawalId: b!, step: { from: ['approved'], to: 'voided', resolution: 'void', reason: 'test' } },
        // Waiting for an admin, not approved: refused, and the others still move.
        { withdrawalId: c!, step: pay(`0x${'cc'.repeat(32)}`) },
        { withdrawalId: '999999', step: pay(`0x${'ee'.repeat(32)}`) },
        // Paid already: the repeat answers its state.
        { withdrawalId: d!, step: pay(`0x${'dd'.repeat(32)}`) },
      ]);
      expect(outcomes.map(refusalType)).to.deep.equal([
        'answered',
        'answered',
        'WITHDRAWAL_STATE',
        'WITHDRAWAL_NOT_FOUND',
        'answered',
      ]);
      expect(outcomes.map((o) => o.ok && o.value.changed)).to.deep.equal([true, true, false, false, false]);
      // 500 - 11 (paid) - 31 (paid) - 151 (still held); the voided 21 came back.
      expect(await userBalance(db.prisma, '17')).to.deep.equal({ available: usdt('307'), held: usdt('151') });
      expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
    });

    it('answers each of 200 concurrent callers on one balance through the desk, twice the same key each', async () => {
      await fund('18', usdt('1000'));
      const desk = new WithdrawalDesk(db.pool, system, rules);
      // Each takes 11: 90 fit into 1000. Every key is asked twice at once and must give one withdrawal.
      const keys = Array.from({ length: 200 }, (_, i) => `d-${i}`);
      const answers = await Promise.allSettled(
        [...keys, ...keys].map((key) => desk.request(userRecord('18'), usdt('10'), key)),
      );
      await desk.idle();
      const byKey = new Map<string, Set<string>>();
      answers.forEach((answer, i) => {
        const key = keys[i % keys.length]!;
        const seen = byKey.get(key) ?? new Set<string>();
        if (answer.status === 'fulfilled') seen.add(answer.value.withdrawal.id);
        else {
          expect((answer.reason as WithdrawalRefusal).type).to.equal('INSUFFICIENT_FUNDS');
          seen.add('refused');
        }
        byKey.set(key, seen);
      });
      const held = [...byKey.values()].filter((ids) => !ids.has('refused'));
      expect(held).to.have.length(90);
      for (const ids of held) expect(ids.size).to.equal(1);
      expect(await userBalance(db.prisma, '18')).to.deep.equal({ available: usdt('10'), held: usdt('990') });
      expect((await db.pool.query('SELECT 1 FROM withdrawals')).rowCount).to.equal(90);
      expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
    });
  });
});
