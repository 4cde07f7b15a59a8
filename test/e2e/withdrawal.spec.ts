// Money out, end to end, through Telegram and the chain: a user deposits on Anvil, withdraws part of it in the bot
// (financial password, confirmation), and the tokens arrive in their wallet once; a withdrawal above the
// auto-approval limit is approved by an admin in Telegram and paid, another is rejected and its funds return. Every
// service runs, on PostgreSQL, Redis, NATS JetStream, Anvil and the Bot API emulator; payouts are real (DRY_RUN=false).
import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import type { Reconciliation } from '../../lib/contracts';
import { buttonsOf, press, send } from '../support/bot-dialog';
import { startSystem, type TestSystem } from '../support/system';
import type { RecordedMessage, SimulatedUser } from '../support/telegram-emulator';
import { attachTestUsdt, parseUsdt, transfersFrom } from '../support/usdt';

const PASSWORD = 'Rt5vLw83qN';
const ADMIN = randomInt(100_000, 900_000);

interface Balance {
  available: string;
  held: string;
}

describe('withdrawals, end to end', function () {
  this.timeout(180_000);
  let system: TestSystem;
  let miner: NodeJS.Timeout;
  let bob: SimulatedUser;
  let admin: SimulatedUser;
  let bobId: string;
  const bobWallet = () => system.anvil.accounts[1]!.address;
  const hot = () => system.anvil.accounts[5]!;

  before(async () => {
    system = await startSystem({
      confirmations: 3,
      groups: ['bot-gateway', 'ledger', 'notifier', 'chain-monitor', 'payout'],
      env: {
        DRY_RUN: 'false',
        PAYOUT_WALLET_ADDRESS: '0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc', // Anvil's account 5
        PAYOUT_WALLET_PRIVATE_KEY: '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
        PAYOUT_POLL_INTERVAL_MS: '100',
        PAYOUT_MIN_GAS_PRICE_GWEI: '1',
        PAYOUT_LOW_USDT: '10',
        WITHDRAWAL_FEE: '1',
        WITHDRAWAL_AUTO_APPROVE_LIMIT: '100',
        ADMIN_TELEGRAM_IDS: String(ADMIN),
        BSC_EXPLORER_URL: 'https://testnet.bscscan.com',
      },
    });
    expect(hot().address).to.equal('0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc');
    const minter = attachTestUsdt(system.usdtAddress, system.anvil.wallet(0));
    await (await minter.mint(bobWallet(), parseUsdt('1000'))).wait();
    // The hot wallet is funded from outside (cold storage), as an operator does.
    await (await minter.mint(hot().address, parseUsdt('5000'))).wait();
    // Blocks keep coming, so deposits and payouts reach their depth.
    miner = setInterval(() => void system.anvil.mine(1).catch(() => undefined), 250);
  });
  after(async () => {
    clearInterval(miner);
    await system?.stop();
  });

  const tokens = async (address: string) =>
    attachTestUsdt(system.usdtAddress, system.anvil.wallet(0)).balanceOf(address);
  const balance = async () => {
    const { available, held } = await system.call<Balance>('ledger.balance', { userId: bobId });
    return { available, held };
  };
  const transfersFromHot = () => transfersFrom(system.anvil.provider, system.usdtAddress, hot().address);

  /** /withdraw <amount>, the password, Confirm: resolves with the withdrawal id the bot answers with. */
  async function withdraw(amount: string): Promise<string> {
    await send(bob, `/withdraw ${amount}`, /Send your financial password/);
    const sent = bob.sendText(PASSWORD);
    const confirmation = await bob.waitForMessage(
      (m) => m.message_id > sent.message_id && /Please confirm your withdrawal/.test(m.text),
    );
    expect(bob.wasDeleted(sent), 'the password message is deleted').to.equal(true);
    return confirm(confirmation);
  }

  async function confirm(confirmation: RecordedMessage): Promise<string> {
    const ok = buttonsOf(confirmation).find((d) => d.startsWith('wd:ok:'))!;
    bob.pressButton(confirmation, ok);
    const done = await bob.waitForMessage(
      (m) => m.message_id === confirmation.message_id && /Withdrawal #\d+ is requested/.test(m.text),
    );
    return /#(\d+)/.exec(done.text)![1]!;
  }

  it('deposits on chain, withdraws part of it through the bot, and the wallet holds the tokens once', async () => {
    bob = system.emulator.user({ first_name: 'Bob', language_code: 'en' });
    admin = system.emulator.user({ id: ADMIN, first_name: 'Ada', language_code: 'en' });
    await send(admin, '/start', /Welcome/);
    await send(bob, '/start', /Welcome/);
    await send(bob, `/wallet ${bobWallet().toLowerCase()}`, /Wallet saved/);
    bobId = (await system.call<{ id: string }>('users.byTelegramId', { telegramId: String(bob.id) })).id;

    await (
      await attachTestUsdt(system.usdtAddress, system.anvil.wallet(1)).transfer(system.systemWallet, parseUsdt('300'))
    ).wait();
    await bob.waitForMessage(/Your deposit of 300 USDT is credited/, 60_000);

    // First withdrawal: the password is set (typed twice), then confirmed.
    await send(bob, '/withdraw 40', /Set a financial password/);
    for (const answer of [/once more/, /Your financial password is set/]) {
      const sent = bob.sendText(PASSWORD);
      await bob.waitForMessage((m) => m.message_id > sent.message_id && answer.test(m.text));
      expect(bob.wasDeleted(sent)).to.equal(true);
    }
    const confirmation = await bob.waitForMessage(/Please confirm your withdrawal/);
    expect(confirmation.text).to.contain('Amount: 40 USDT').and.contain('Fee: 1 USDT').and.contain(bobWallet());
    const first = await confirm(confirmation);

    await bob.waitForMessage(new RegExp(`Withdrawal #${first} of 40 USDT is approved`), 30_000);
    const sent = await bob.waitForMessage(new RegExp(`Withdrawal #${first}: 40 USDT is on its way`), 30_000);
    const txHash = /Transaction: (0x[0-9a-f]{64})/.exec(sent.text)?.[1];
    expect(txHash, sent.text).to.be.a('string');
    expect(JSON.stringify(sent.entities ?? [])).to.contain(`https://testnet.bscscan.com/tx/${txHash}`);
    await bob.waitForMessage(new RegExp(`Withdrawal #${first} is complete: 40 USDT has arrived`), 60_000);

    expect((await transfersFromHot()).map((t) => [t.to, t.amount, t.txHash])).to.deep.equal([
      [bobWallet().toLowerCase(), parseUsdt('40'), txHash],
    ]);
    expect(await tokens(bobWallet())).to.equal(parseUsdt('740')); // 1000 − 300 deposited + 40 withdrawn
    expect(await balance()).to.deep.equal({ available: parseUsdt('259').toString(), held: '0' });
  });

  it('pays a withdrawal above the auto-approval limit once an admin approves it in Telegram', async () => {
    const id = await withdraw('150');
    await bob.waitForMessage(new RegExp(`Withdrawal #${id} of 150 USDT waits for an admin's approval`));
    expect(await balance()).to.deep.equal({
      available: parseUsdt('108').toString(),
      held: parseUsdt('151').toString(),
    });
    await admin.waitForMessage(new RegExp(`#${id}: 150 USDT of user #${bobId}`));
    // Nothing leaves before the approval.
    expect(await transfersFromHot()).to.have.length(1);

    const list = await send(admin, '/pending', /Withdrawals waiting for approval/);
    expect(list.text).to.contain(`#${id} · 150 USDT (fee 1)`);
    await press(admin, list, `adm:ok:${id}`, new RegExp(`Withdrawal #${id} \\(150 USDT\\) is approved`));
    await bob.waitForMessage(new RegExp(`Withdrawal #${id} of 150 USDT is approved`), 30_000);
    await bob.waitForMessage(new RegExp(`Withdrawal #${id} is complete: 150 USDT has arrived`), 60_000);

    expect((await transfersFromHot()).map((t) => [t.to, t.amount])).to.deep.equal([
      [bobWallet().toLowerCase(), parseUsdt('40')],
      [bobWallet().toLowerCase(), parseUsdt('150')],
    ]);
    expect(await tokens(bobWallet())).to.equal(parseUsdt('890'));
    expect(await balance()).to.deep.equal({ available: parseUsdt('108').toString(), held: '0' });
  });

  it('returns the funds of a withdrawal an admin rejects, with the reason, and sends nothing', async () => {
    const id = await withdraw('101');
    await bob.waitForMessage(new RegExp(`Withdrawal #${id} of 101 USDT waits for an admin's approval`));
    expect(await balance()).to.deep.equal({ available: parseUsdt('6').toString(), held: parseUsdt('102').toString() });
    await send(
      admin,
      `/reject ${id} Please verify your identity first`,
      new RegExp(`#${id} \\(101 USDT\\) is rejected`),
    );
    const told = await bob.waitForMessage(new RegExp(`Withdrawal #${id} of 101 USDT was rejected`));
    expect(told.text).to.contain('Reason: Please verify your identity first');
    expect(await balance()).to.deep.equal({ available: parseUsdt('108').toString(), held: '0' });

    clearInterval(miner);
    await system.quiesce();
    expect(await transfersFromHot()).to.have.length(2);
    const withdrawals = await system.call<{ id: string; status: string }[]>('ledger.withdrawals', { userId: bobId });
    expect(withdrawals.map((w) => w.status).sort()).to.deep.equal(['paid', 'paid', 'rejected']);
    expect((await system.call<{ problems: string[] }>('ledger.check')).problems).to.deep.equal([]);
    // The books reconcile with the chain: deposits, payouts and the platform's wallets.
    const reconciliation = await system.call<Reconciliation>('ledger.reconcile');
    expect(reconciliation.differences).to.deep.equal([]);
    expect(reconciliation.totals).to.include({
      credited: parseUsdt('300').toString(),
      paid: parseUsdt('190').toString(),
      hotWalletFunding: parseUsdt('5000').toString(),
    });
  });
});
