// A user's whole path through Telegram and the chain, on real PostgreSQL, Redis, NATS JetStream, Anvil and the
// Bot API emulator: join by referral link, register a wallet, deposit on chain, get credited once, uplines paid.
import { expect } from 'chai';
import type { SimulatedUser } from '../support/telegram-emulator';
import { eventually, startSystem, waitForTransferStatus, type TestSystem } from '../support/system';
import { attachTestUsdt, parseUsdt } from '../support/usdt';

interface Balance {
  available: string;
  held: string;
}

async function join(
  system: TestSystem,
  name: string,
  code?: string,
): Promise<{ user: SimulatedUser; code: string; id: string }> {
  const user = system.emulator.user({ first_name: name, language_code: 'en' });
  user.sendText(code ? `/start ${code}` : '/start');
  await user.waitForMessage(/Welcome to/);
  user.sendText('/referrals');
  const referrals = await user.waitForMessage(/Referral program/);
  const own = /start=([A-Za-z0-9_-]+)/.exec(referrals.text)?.[1];
  expect(own, 'personal referral link').to.be.a('string');
  const record = await system.call<{ id: string }>('users.byTelegramId', { telegramId: String(user.id) });
  return { user, code: own!, id: record.id };
}

async function registerWallet(user: SimulatedUser, address: string): Promise<void> {
  user.sendText(`/wallet ${address.toLowerCase()}`);
  const saved = await user.waitForMessage(/Wallet saved/);
  expect(saved.text).to.contain(address); // stored in its EIP-55 form
}

async function sendUsdt(
  system: TestSystem,
  accountIndex: number,
  amount: string,
): Promise<{ hash: string; block: number }> {
  const from = system.anvil.wallet(accountIndex);
  const tx = await attachTestUsdt(system.usdtAddress, from).transfer(system.systemWallet, parseUsdt(amount));
  const receipt = await tx.wait();
  return { hash: tx.hash, block: receipt!.blockNumber };
}

const balanceOf = (system: TestSystem, userId: string) => system.call<Balance>('ledger.balance', { userId });

describe('deposit loop, end to end', function () {
  this.timeout(120_000);
  let system: TestSystem;

  before(async () => {
    system = await startSystem({ confirmations: 3 });
    // Fund the depositors' wallets with test USDT.
    const minter = system.anvil.wallet(0);
    for (const i of [1, 2, 3, 4, 5]) {
      await (
        await attachTestUsdt(system.usdtAddress, minter).mint(system.anvil.accounts[i]!.address, parseUsdt('100000'))
      ).wait();
    }
  });
  after(async () => system?.stop());

  it('A invites B, B invites C; C deposits on chain and everyone is credited and told exactly once', async () => {
    const a = await join(system, 'Alice');
    const b = await join(system, 'Bob', a.code);
    const c = await join(system, 'Carol', b.code);
    expect(await system.call('users.uplines', { userId: c.id })).to.deep.equal([
      { level: 1, userId: b.id },
      { level: 2, userId: a.id },
    ]);
    const d = await join(system, 'Dave', c.code);
    const carolWallet = system.anvil.accounts[1]!.address;
    await registerWallet(d.user, system.anvil.accounts[2]!.address);
    await registerWallet(c.user, carolWallet);

    c.user.sendText('/deposit');
    const instructions = await c.user.waitForMessage(/How to deposit/);
    expect(instructions.text)
      .to.contain(system.systemWallet)
      .and.contain(carolWallet)
      .and.contain('3 block confirmations');

    // D (uplines C, B, A) deposits 1000 USDT: level 6, commissions 5% / 4% / 3%.
    const deposit = await sendUsdt(system, 2, '1000');
    const detected = await d.user.waitForMessage(/We see your deposit of 1000 USDT/, 15_000);
    expect(detected.text).to.contain(deposit.hash);
    await system.anvil.mine(3);
    await d.user.waitForMessage(/deposit of 1000 USDT is credited\. Deposit level: 6/, 15_000);
    await c.user.waitForMessage(/You earned 50 USDT referral commission \(level 1\) from Dave/, 15_000);
    await b.user.waitForMessage(/You earned 40 USDT referral commission \(level 2\) from Dave/, 15_000);
    await a.user.waitForMessage(/You earned 30 USDT referral commission \(level 3\) from Dave/, 15_000);

    expect((await balanceOf(system, d.id)).available).to.equal(parseUsdt('1000').toString());
    expect((await balanceOf(system, c.id)).available).to.equal(parseUsdt('50').toString());
    expect((await balanceOf(system, b.id)).available).to.equal(parseUsdt('40').toString());
    expect((await balanceOf(system, a.id)).available).to.equal(parseUsdt('30').toString());

    // C deposits 9.5 USDT: below level 1, credited without a level; B and A earn from it.
    await sendUsdt(system, 1, '9.5');
    await system.anvil.mine(3);
    await c.user.waitForMessage(/9\.5 USDT is credited\. It is below the smallest deposit level \(10 USDT\)/, 15_000);
    await b.user.waitForMessage(/You earned 0\.475 USDT referral commission \(level 1\) from Carol/, 15_000);

    c.user.sendText('/balance');
    await c.user.waitForMessage(/Available: 59\.5 USDT/);
    a.user.sendText('/referrals');
    const aStats = await a.user.waitForMessage(
      (m) => /Referral program/.test(m.text) && /Level 3: 1 person, earned 30 USDT/.test(m.text),
    );
    expect(aStats.text)
      .to.match(/Level 1: 1 person/)
      .and.match(/Level 2: 1 person, earned 0\.38 USDT/);

    // Exactly one credit message per promise, even after more blocks and redeliveries.
    await system.anvil.mine(5);
    await system.quiesce();
    const credited = d.user.messages().filter((m) => /USDT is credited/.test(m.text));
    expect(credited).to.have.length(1);
    expect(c.user.messages().filter((m) => /from Dave/.test(m.text))).to.have.length(1);
    const check = await system.call<{ ok: boolean; problems: string[] }>('ledger.check');
    expect(check.problems).to.deep.equal([]);
  });

  it('a reorg that drops a transfer before its confirmations credits nothing', async () => {
    const e = await join(system, 'Erin');
    await registerWallet(e.user, system.anvil.accounts[3]!.address);
    const deposit = await sendUsdt(system, 3, '77');
    await e.user.waitForMessage(/We see your deposit of 77 USDT/, 15_000);
    // Replace the block that held the transfer (and everything after it) with empty blocks.
    const head = await system.anvil.blockNumber();
    await system.anvil.reorg(head - deposit.block + 1);
    expect(await system.anvil.provider.getTransactionReceipt(deposit.hash)).to.equal(null);
    await system.anvil.mine(6);
    await waitForTransferStatus(system.db.pool, deposit.hash, 'orphaned');
    await system.anvil.mine(3);
    await system.quiesce();
    expect((await balanceOf(system, e.id)).available).to.equal('0');
    expect(e.user.messages().filter((m) => /USDT is credited/.test(m.text))).to.have.length(0);
    const deposits = await system.db.pool.query('SELECT 1 FROM deposits WHERE tx_hash = $1', [deposit.hash]);
    expect(deposits.rowCount).to.equal(0);
  });

  it('a transfer from an unregistered wallet is credited to nobody and listed as unmatched', async () => {
    const stranger = system.anvil.accounts[5]!.address;
    const deposit = await sendUsdt(system, 5, '12');
    await system.anvil.mine(3);
    const unmatched = await eventually(async () => {
      const list = await system.call<{ txHash: string; from: string; amount: string }[]>('chain-monitor.unmatched', {});
      return list.find((t) => t.txHash === deposit.hash);
    }, 'the unmatched transfer');
    expect(unmatched.from).to.equal(stranger);
    expect(unmatched.amount).to.equal(parseUsdt('12').toString());
    const deposits = await system.db.pool.query('SELECT 1 FROM deposits WHERE tx_hash = $1', [deposit.hash]);
    expect(deposits.rowCount).to.equal(0);
  });

  it('chain-monitor killed mid-scan and restarted credits nothing twice', async () => {
    const f = await join(system, 'Frank');
    await registerWallet(f.user, system.anvil.accounts[4]!.address);
    await system.stopGroup('chain-monitor');
    // History the restarted scanner must catch up on: 12 deposits spread over ~400 blocks.
    let expected = 0n;
    for (let i = 0; i < 12; i++) {
      await sendUsdt(system, 4, `${i + 1}`);
      expected += parseUsdt(`${i + 1}`);
      await system.anvil.mine(30);
    }
    await system.anvil.mine(3);
    // A scanner with tiny windows, SIGKILLed once it has committed part of the history.
    const child = system.spawnChainMonitor({ BSC_SCAN_WINDOW_BLOCKS: '7', BSC_POLL_INTERVAL_MS: '50' });
    const head = await system.anvil.blockNumber();
    await eventually(
      async () => {
        const rows = await system.db.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM observed_transfers WHERE from_address = $1`,
          [system.anvil.accounts[4]!.address],
        );
        return Number(rows.rows[0]!.n) >= 3;
      },
      'the child scanner to record some deposits',
      60_000,
    );
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const { rows } = await system.db.pool.query<{ block_number: string }>(
      'SELECT max(block_number) AS block_number FROM chain_checkpoints',
    );
    expect(Number(rows[0]!.block_number)).to.be.below(head, 'killed before it reached the head');

    await system.startGroup('chain-monitor');
    await eventually(
      async () => (await balanceOf(system, f.id)).available === expected.toString(),
      'every deposit credited',
      60_000,
    );
    await system.anvil.mine(5);
    await system.quiesce();
    expect((await balanceOf(system, f.id)).available).to.equal(expected.toString());
    const credits = await system.db.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM deposits WHERE from_address = $1',
      [system.anvil.accounts[4]!.address],
    );
    expect(credits.rows[0]!.n).to.equal('12');
    await eventually(
      async () => f.user.messages().filter((m) => /USDT is credited/.test(m.text)).length === 12,
      'twelve credit messages',
      30_000,
    );
    await system.quiesce();
    expect(f.user.messages().filter((m) => /USDT is credited/.test(m.text))).to.have.length(12);
    const check = await system.call<{ problems: string[] }>('ledger.check');
    expect(check.problems).to.deep.equal([]);
  });
});
