import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { UserRecord } from '../../lib/contracts';
import { parseAmount, parseRate } from '../../lib/money';
import { ensureSystemAccounts, type SystemAccounts } from '../../services/ledger/accounts';
import { checkLedger } from '../../services/ledger/checks';
import { creditDeposit, creditNotifications, planCredit, type CreditRules } from '../../services/ledger/deposits';
import { userBalance } from '../../services/ledger/queries';
import {
  requestWithdrawal,
  transition,
  userMessages,
  WithdrawalRefusal,
  withdrawalSteps,
  type Transition,
  type WithdrawalRules,
} from '../../services/ledger/withdrawals';
import { createTestDatabase, type TestDatabase } from '../support/database';
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
    const d = {
      chainId: 56,
      txHash: `0x${randomBytes(32).toString('hex')}`,
      logIndex: 0,
      blockNumber: '100',
      blockHash: `0x${randomBytes(32).toString('hex')}`,
      fromAddress: '0x1111111111111111111111111111111111111111',
      userId,
      amount,
    };
    const plan = planCredit(d, [], creditRules);
    await creditDeposit(db.pool, system, d, plan, creditNotifications(d, plan, creditRules));
  }

  const available = async (userId: string) => (await userBalance(db.prisma, userId)).available;
  const request = async (u: UserRecord, amount: bigint, key: string) =>
    requestWithdrawal(db.pool, system, rules, u, amount, key, await available(u.id));
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
        // The balance is read before the lock, as the service does; the database refuses what does not fit.
        requestWithdrawal(db.pool, system, rules, userRecord('3'), usdt('10'), `c-${i}`, usdt('1000')),
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
    const ask = async (id: string, amount: string, key: string) =>
      requestWithdrawal(db.pool, system, tight, userRecord(id), usdt(amount), key, await available(id));
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
      (await requestWithdrawal(db.pool, system, tight, userRecord(id), usdt(amount), key, await available(id)))
        .withdrawal;
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
});
