// ledger.reconcile against a real chain: deposits on Anvil found by chain-monitor and credited by the ledger, a
// payout sent by the payout service from a hot wallet the system wallet funded. The books match; then each kind
// of difference is made on purpose and must be named with the rows behind it.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { HDNodeWallet, Wallet } from 'ethers';
import type { Reconciliation, WithdrawalRecord } from '../../lib/contracts';
import { ANVIL_DEFAULT_MNEMONIC } from '../support/anvil';
import { creditTestDeposit } from '../support/deposits';
import { eventually, startSystem, type TestSystem } from '../support/system';
import { attachTestUsdt, parseUsdt } from '../support/usdt';

// Anvil's dev account 5 of its default mnemonic (startSystem's system wallet is account 9).
const HOT = HDNodeWallet.fromPhrase(ANVIL_DEFAULT_MNEMONIC, undefined, "m/44'/60'/0'/0/5");

describe('ledger.reconcile', function () {
  this.timeout(180_000);
  let system: TestSystem;
  let miner: NodeJS.Timeout;
  const kinds = (r: Reconciliation) => r.differences.map((d) => d.kind).sort();
  const rowsOf = (r: Reconciliation, kind: string) => r.differences.find((d) => d.kind === kind)?.rows ?? [];

  before(async () => {
    system = await startSystem({
      confirmations: 2,
      groups: ['users', 'ledger', 'chain-monitor', 'payout'], // no notifier: messages are not what this proves
      env: {
        DRY_RUN: 'false',
        PAYOUT_WALLET_ADDRESS: HOT.address,
        PAYOUT_WALLET_PRIVATE_KEY: HOT.privateKey,
        PAYOUT_POLL_INTERVAL_MS: '100',
        PAYOUT_MIN_GAS_PRICE_GWEI: '1',
        WITHDRAWAL_AUTO_APPROVE_LIMIT: '1000',
        WALLET_CHANGE_COOLDOWN_HOURS: '0',
        PAYOUT_LOW_USDT: '0',
        PAYOUT_LOW_BNB: '0',
      },
    });
    // Blocks keep coming, so deposits and payouts reach their depth.
    miner = setInterval(() => void system.anvil.mine(1).catch(() => undefined), 200);
  });
  after(async () => {
    clearInterval(miner);
    await system?.stop();
  });

  it('finds the books equal to the chain, then names every difference made on purpose', async () => {
    const { anvil, usdtAddress } = system;
    const minter = attachTestUsdt(usdtAddress, anvil.wallet(0));
    const hot = (await system.call<{ wallet: string }>('payout.status')).wallet;
    expect(hot).to.equal(anvil.accounts[5]!.address);

    // Two users deposit from their registered wallets; a stranger sends from a wallet nobody registered.
    const users: { id: string; wallet: string }[] = [];
    for (const index of [1, 2]) {
      const wallet = anvil.accounts[index]!.address;
      const { user } = await system.call<{ user: { id: string } }>('users.register', {
        telegramId: String(7_000_000 + index),
        languageCode: 'en',
      });
      await system.call('users.setWallet', { userId: user.id, address: wallet });
      users.push({ id: user.id, wallet });
      await (await minter.mint(wallet, parseUsdt('1000'))).wait();
      await (
        await attachTestUsdt(usdtAddress, anvil.wallet(index)).transfer(system.systemWallet, parseUsdt('300'))
      ).wait();
    }
    await (await minter.mint(anvil.accounts[3]!.address, parseUsdt('50'))).wait();
    await (await attachTestUsdt(usdtAddress, anvil.wallet(3)).transfer(system.systemWallet, parseUsdt('50'))).wait();
    for (const u of users)
      await eventually(
        async () =>
          (await system.call<{ available: string }>('ledger.balance', { userId: u.id })).available ===
          parseUsdt('300').toString(),
        `user ${u.id} credited`,
        60_000,
      );

    // The system wallet funds the hot wallet (a move between the platform's own wallets); user 1 withdraws part.
    const systemSigner = anvil.wallet(9);
    await (await attachTestUsdt(usdtAddress, systemSigner).transfer(hot, parseUsdt('200'))).wait();
    const { withdrawal } = await system.call<{ withdrawal: WithdrawalRecord }>('ledger.requestWithdrawal', {
      userId: users[0]!.id,
      amount: parseUsdt('120').toString(),
      idempotencyKey: 'reconcile-1',
    });
    await eventually(
      async () =>
        (await system.call<WithdrawalRecord>('ledger.withdrawal', { withdrawalId: withdrawal.id })).status === 'paid',
      'the withdrawal paid',
      60_000,
    );
    // Quiet only once blocks stop coming (chain-monitor must reach the head).
    clearInterval(miner);
    await system.quiesce();

    const clean = await system.call<Reconciliation>('ledger.reconcile');
    expect(clean.differences, JSON.stringify(clean.differences)).to.deep.equal([]);
    expect(clean.ok).to.equal(true);
    expect(clean.totals.credited).to.equal(parseUsdt('600').toString());
    expect(clean.totals.confirmedMatched).to.equal(parseUsdt('600').toString());
    expect(clean.totals.confirmedUnmatched).to.equal(parseUsdt('50').toString());
    expect(clean.totals.posted).to.equal(parseUsdt('120').toString());
    expect(clean.totals.paid).to.equal(parseUsdt('120').toString());
    // 650 in, 120 out; the 200 moved to the hot wallet stays the platform's.
    expect(clean.totals.walletBalances).to.equal(parseUsdt('530').toString());

    // 1. Someone with the hot wallet's key sends tokens that are no payout.
    const outsider = Wallet.createRandom().address;
    await (await attachTestUsdt(usdtAddress, anvil.wallet(5)).transfer(outsider, parseUsdt('7'))).wait();

    // 2. A credit the chain never saw.
    const ghost = await creditTestDeposit(system.db.pool, users[1]!.id, parseUsdt('5'), {
      chainId: anvil.chainId,
      fromAddress: users[1]!.wallet,
    });

    // 3. The ledger believes a deposit left the chain that is still on it.
    await system.db.pool.query('UPDATE deposits SET reorged_at = now() WHERE user_id = $1', [users[0]!.id]);

    // 4. The payout service's record of the paid transfer names another transaction.
    const paidTx = (await system.call<WithdrawalRecord>('ledger.withdrawal', { withdrawalId: withdrawal.id })).txHash;
    const fakeTx = `0x${randomBytes(32).toString('hex')}`;
    await system.db.pool.query('UPDATE payouts SET tx_hash = $1 WHERE withdrawal_id = $2', [fakeTx, withdrawal.id]);

    await anvil.mine(3);
    const dirty = await system.call<Reconciliation>('ledger.reconcile');
    expect(dirty.ok).to.equal(false);
    expect(kinds(dirty)).to.deep.equal([
      'credit_without_deposit',
      'deposit_not_credited',
      'outflow_not_a_payout',
      'payout_mismatch',
      'payout_not_on_chain',
    ]);
    expect(rowsOf(dirty, 'credit_without_deposit')[0]).to.contain(ghost.txHash).and.contain(`user ${users[1]!.id}`);
    expect(rowsOf(dirty, 'deposit_not_credited')[0]).to.contain(`user ${users[0]!.id}`);
    expect(rowsOf(dirty, 'payout_mismatch')[0]).to.contain(`withdrawal ${withdrawal.id}`).and.contain(fakeTx);
    expect(rowsOf(dirty, 'payout_not_on_chain')[0]).to.contain(fakeTx);
    // The leak and the real payout transfer (now unexplained) are both named, with their destinations.
    const out = rowsOf(dirty, 'outflow_not_a_payout').join('\n');
    expect(out).to.contain(outsider).and.contain(users[0]!.wallet);

    // 5. The wallets hold less than users are owed.
    await system.db.pool.query('UPDATE payouts SET tx_hash = $1 WHERE withdrawal_id = $2', [paidTx, withdrawal.id]);
    const drained = Wallet.createRandom().address;
    await (await attachTestUsdt(usdtAddress, systemSigner).transfer(drained, parseUsdt('300'))).wait();
    await anvil.mine(3);
    const short = await system.call<Reconciliation>('ledger.reconcile');
    expect(kinds(short)).to.include('insolvent');
    expect(rowsOf(short, 'outflow_not_a_payout').join('\n')).to.contain(drained);
  });
});
