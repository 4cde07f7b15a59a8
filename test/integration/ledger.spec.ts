import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ensureSystemAccounts, type SystemAccounts } from '../../services/ledger/accounts';
import { settleConfirmedDeposit, settleReorgedDeposit, type ChainFactPorts } from '../../services/ledger/chain-facts';
import { checkLedger } from '../../services/ledger/checks';
import {
  applyChainFact,
  creditDeposit,
  creditNotifications,
  planCredit,
  type ConfirmedDeposit,
  type CreditRules,
} from '../../services/ledger/deposits';
import { referralEarnings, userBalance } from '../../services/ledger/queries';
import { rootLogger } from '../../lib/logger';
import { parseAmount, parseRate } from '../../lib/money';
import { createTestDatabase, type TestDatabase } from '../support/database';

const usdt = (text: string) => parseAmount(text, 18);
const rules: CreditRules = {
  levelThresholds: ['10', '50', '100', '250', '500', '1000'].map(usdt),
  referralRates: ['0.05', '0.04', '0.03'].map(parseRate),
};

function deposit(userId: string, amount: bigint, overrides: Partial<ConfirmedDeposit> = {}): ConfirmedDeposit {
  return {
    chainId: 56,
    txHash: `0x${randomBytes(32).toString('hex')}`,
    logIndex: 0,
    blockNumber: '100',
    blockHash: `0x${randomBytes(32).toString('hex')}`,
    fromAddress: '0x1111111111111111111111111111111111111111',
    userId,
    amount,
    ...overrides,
  };
}

describe('ledger on PostgreSQL', () => {
  let db: TestDatabase;
  let system: SystemAccounts;

  beforeEach(async () => {
    db = await createTestDatabase('ledger');
    system = await ensureSystemAccounts(db.pool);
  });
  afterEach(async () => db.drop());

  async function credit(d: ConfirmedDeposit, uplines: { level: number; userId: string }[] = []) {
    const plan = planCredit(d, uplines, rules);
    return creditDeposit(db.pool, system, d, plan, creditNotifications(d, plan, rules));
  }

  it('settles a confirmed deposit once through its ports, without a broker, and a reorg fact after it', async () => {
    let asked = 0;
    const kicks: string[] = [];
    const ports: ChainFactPorts = {
      pool: db.pool,
      system,
      rules,
      uplines: async () => {
        asked++;
        return [{ level: 1, userId: '21' }];
      },
      onCommitted: () => kicks.push('kick'),
      log: rootLogger().child({ service: 'ledger-spec' }, { level: 'silent' }),
    };
    const d = deposit('22', usdt('100'));
    const fact = { ...d, id: `deposit-confirmed:${d.txHash}`, amount: d.amount.toString(), revision: 2 };
    expect(await settleConfirmedDeposit(fact, ports)).to.equal('credited');
    expect(await settleConfirmedDeposit(fact, ports)).to.equal('known');
    expect(asked).to.equal(1);
    expect((await userBalance(db.prisma, '22')).available).to.equal(usdt('100'));
    expect((await userBalance(db.prisma, '21')).available).to.equal(usdt('5'));

    await settleReorgedDeposit({ ...fact, revision: 3 }, ports);
    expect((await checkLedger(db.pool)).ok).to.equal(false);
    expect(await settleConfirmedDeposit({ ...fact, revision: 4, blockHash: `0x${'b'.repeat(64)}` }, ports)).to.equal(
      'restored',
    );
    expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
    expect(kicks).to.have.length(3);
    const unknown = deposit('23', usdt('1'));
    const error = await settleReorgedDeposit({ ...unknown, id: 'x', amount: '1', revision: 5 }, ports).catch(
      (e: Error) => e,
    );
    expect(String(error)).to.contain('not credited yet');
  });

  it('applies the newest chain fact about a credited deposit whatever order facts arrive in, reversing nothing', async () => {
    const d = deposit('7', usdt('40'), { revision: 2 });
    await credit(d);
    const fact = (revision: number, blockHash = d.blockHash) => ({ ...d, revision, blockHash });
    const alerts = async () =>
      (
        await db.pool.query<{ payload: { template: string } }>(
          `SELECT payload FROM ledger_outbox WHERE channel = 'alerts.raised' ORDER BY id`,
        )
      ).rows.map((r) => r.payload.template);

    expect(await applyChainFact(db.pool, fact(3), true)).to.equal('reorged-out');
    const reported = await checkLedger(db.pool);
    expect(reported.ok).to.equal(false);
    expect(reported.problems).to.have.length(1);
    expect(reported.problems[0]).to.contain(d.txHash).and.contain('left the chain');
    // A late copy of the first confirmation is old news.
    expect(await applyChainFact(db.pool, fact(2), false)).to.equal('stale');
    expect(await applyChainFact(db.pool, fact(3), true)).to.equal('stale');
    const newBlock = `0x${randomBytes(32).toString('hex')}`;
    expect(await applyChainFact(db.pool, fact(5, newBlock), false)).to.equal('restored');
    // The reorg announcement that was overtaken arrives last: ignored.
    expect(await applyChainFact(db.pool, fact(4), true)).to.equal('stale');
    expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
    expect(await alerts()).to.deep.equal(['admin.deposit_reorged', 'admin.deposit_restored']);
    expect((await userBalance(db.prisma, '7')).available).to.equal(usdt('40'));
    const row = await db.pool.query('SELECT block_hash, chain_revision, reorged_at FROM deposits WHERE tx_hash = $1', [
      d.txHash,
    ]);
    expect(row.rows).to.deep.equal([{ block_hash: newBlock, chain_revision: 5, reorged_at: null }]);
    expect(await applyChainFact(db.pool, deposit('7', usdt('1'), { revision: 9 }), true)).to.equal('not-credited');
  });

  it('credits the depositor and three uplines with balanced entries and queues their notifications', async () => {
    const result = await credit(deposit('4', usdt('100')), [
      { level: 1, userId: '3' },
      { level: 2, userId: '2' },
      { level: 3, userId: '1' },
    ]);
    expect(result.credited).to.equal(true);
    expect((await userBalance(db.prisma, '4')).available).to.equal(usdt('100'));
    expect((await userBalance(db.prisma, '3')).available).to.equal(usdt('5'));
    expect((await userBalance(db.prisma, '2')).available).to.equal(usdt('4'));
    expect((await userBalance(db.prisma, '1')).available).to.equal(usdt('3'));
    expect(await referralEarnings(db.prisma, '2')).to.deep.equal([
      { level: 1, amount: 0n },
      { level: 2, amount: usdt('4') },
      { level: 3, amount: 0n },
    ]);
    const outbox = await db.pool.query<{ payload: { id: string; userId: string; template: string } }>(
      'SELECT payload FROM ledger_outbox ORDER BY id',
    );
    expect(outbox.rows.map((r) => [r.payload.userId, r.payload.template])).to.deep.equal([
      ['4', 'deposit.credited'],
      ['3', 'referral.commission'],
      ['2', 'referral.commission'],
      ['1', 'referral.commission'],
    ]);
    const check = await checkLedger(db.pool);
    expect(check.problems).to.deep.equal([]);
    expect(check.totals.deposits).to.equal(usdt('100').toString());
    expect(check.totals.commissions).to.equal(usdt('12').toString());
  });

  it('credits a deposit below level 1 with level 0 and says it earns no level', async () => {
    await credit(deposit('7', usdt('9.99')));
    const { rows } = await db.pool.query<{ level: number }>('SELECT level FROM deposits');
    expect(rows[0]!.level).to.equal(0);
    const outbox = await db.pool.query<{ payload: { template: string; params: { minimum: string } } }>(
      'SELECT payload FROM ledger_outbox',
    );
    expect(outbox.rows[0]!.payload.template).to.equal('deposit.credited_no_level');
    expect(outbox.rows[0]!.payload.params.minimum).to.equal(usdt('10').toString());
  });

  it('credits one deposit exactly once under 50 concurrent deliveries', async () => {
    const d = deposit('10', usdt('250'));
    const uplines = [
      { level: 1, userId: '11' },
      { level: 2, userId: '12' },
      { level: 3, userId: '13' },
    ];
    const results = await Promise.all(Array.from({ length: 50 }, () => credit({ ...d }, uplines)));
    expect(results.filter((r) => r.credited)).to.have.length(1);
    expect(results.filter((r) => !r.credited)).to.have.length(49);
    expect((await userBalance(db.prisma, '10')).available).to.equal(usdt('250'));
    expect((await userBalance(db.prisma, '11')).available).to.equal(usdt('12.5'));
    const counts = await db.pool.query<{ deposits: string; transfers: string; outbox: string }>(
      `SELECT (SELECT count(*) FROM deposits) AS deposits, (SELECT count(*) FROM journal_transfers) AS transfers, (SELECT count(*) FROM ledger_outbox) AS outbox`,
    );
    expect(counts.rows[0]).to.deep.equal({ deposits: '1', transfers: '2', outbox: '4' });
    expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
  });

  it('keeps every invariant after a random mix of concurrent deposits', async () => {
    const users = Array.from({ length: 30 }, (_, i) => String(i + 1));
    let expectedDeposits = 0n;
    // At most as many at once as the ledger's deposit consumer takes (50), not 330 against a pool of 10: the queue
    // would outwait the pool's connect timeout on a loaded machine.
    let work: Promise<unknown>[] = [];
    for (let i = 0; i < 300; i++) {
      if (work.length >= 50) {
        await Promise.all(work);
        work = [];
      }
      const userIndex = Math.floor(Math.random() * users.length);
      const uplines = [1, 2, 3]
        .map((level) => ({ level, userId: users[userIndex - level] }))
        .filter((u): u is { level: number; userId: string } => u.userId !== undefined);
      const amount =
        BigInt(Math.floor(Math.random() * 2000) + 1) * 10n ** 15n + BigInt(Math.floor(Math.random() * 1000));
      const d = deposit(users[userIndex]!, amount, { logIndex: i % 3 });
      expectedDeposits += amount;
      work.push(credit(d, uplines));
      if (i % 10 === 0) work.push(credit({ ...d }, uplines)); // a redelivery now and then
    }
    await Promise.all(work);
    const check = await checkLedger(db.pool);
    expect(check.problems).to.deep.equal([]);
    expect(check.totals.deposits).to.equal(expectedDeposits.toString());
    const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM deposits');
    expect(rows[0]!.n).to.equal('300');
  });

  it('refuses in the database what the code must never do', async () => {
    await credit(deposit('5', usdt('1')));
    // entries are immutable
    let error = await db.pool.query('UPDATE journal_entries SET amount = amount + 1').catch((e: Error) => e);
    expect(String(error)).to.match(/immutable/);
    error = await db.pool.query('DELETE FROM journal_entries').catch((e: Error) => e);
    expect(String(error)).to.match(/immutable/);
    // a user balance cannot go below zero
    error = await db.pool.query(`UPDATE accounts SET balance = -1 WHERE user_id = 5`).catch((e: Error) => e);
    expect(String(error)).to.match(/accounts_user_balance_not_negative/);
    // a committed transfer takes no more entries
    const { rows: committed } = await db.pool.query<{ id: string }>('SELECT id FROM journal_transfers LIMIT 1');
    error = await db.pool
      .query('INSERT INTO journal_entries (transfer_id, account_id, amount) VALUES ($1, $2, 1000)', [
        committed[0]!.id,
        system.deposits_clearing,
      ])
      .catch((e: Error) => e);
    expect(String(error)).to.match(/same transaction/);
    // an unbalanced transfer does not commit
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      const t = await client.query<{ id: string }>(
        `INSERT INTO journal_transfers (kind, reference) VALUES ('manual', 'x') RETURNING id`,
      );
      await client.query('INSERT INTO journal_entries (transfer_id, account_id, amount) VALUES ($1, $2, 5)', [
        t.rows[0]!.id,
        system.deposits_clearing,
      ]);
      error = await client.query('COMMIT').catch((e: Error) => e);
      expect(String(error)).to.match(/unbalanced/);
    } finally {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
    }
    expect((await checkLedger(db.pool)).problems).to.deep.equal([]);
  });

  it('ledger.check reports a balance that drifted from its entries', async () => {
    await credit(deposit('8', usdt('20')));
    // Simulate corruption behind the ledger's back (the trigger only guards entries, not balances).
    await db.pool.query(`UPDATE accounts SET balance = balance + 1 WHERE user_id = 8`);
    const check = await checkLedger(db.pool);
    expect(check.ok).to.equal(false);
    expect(check.problems.join('\n')).to.match(/differs from its entries/);
  });
});
