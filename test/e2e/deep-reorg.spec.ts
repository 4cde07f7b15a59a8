// A reorg deeper than the confirmations after a deposit was credited: the transfer is marked reorged out, the
// ledger keeps the credit (the user may have spent it) but ledger.check reports it, and admins are alerted through
// the notifier. When the same signed transaction is mined again, all of that clears by itself, and nobody is
// credited twice.
import { expect } from 'chai';
import type { LedgerCheck } from '../../lib/contracts';
import { eventually, startSystem, waitForTransferStatus, type TestSystem } from '../support/system';
import { attachTestUsdt, parseUsdt } from '../support/usdt';

const ADMIN_TELEGRAM_ID = 424_242_001;

describe('a reorg deeper than the confirmations after a credit', function () {
  this.timeout(120_000);
  let system: TestSystem;

  before(async () => {
    system = await startSystem({ confirmations: 2, env: { ADMIN_TELEGRAM_IDS: String(ADMIN_TELEGRAM_ID) } });
  });
  after(async () => system?.stop());

  it('marks the transfer reorged out, reports the credit, alerts admins, and clears once it is mined again', async () => {
    const admin = system.emulator.user({ id: ADMIN_TELEGRAM_ID, first_name: 'Admin', language_code: 'en' });
    admin.sendText('/start');
    await admin.waitForMessage(/Welcome/);

    const depositor = system.emulator.user({ first_name: 'Dora', language_code: 'en' });
    depositor.sendText('/start');
    await depositor.waitForMessage(/Welcome/);
    const wallet = system.anvil.wallet(3);
    depositor.sendText(`/wallet ${wallet.address}`);
    await depositor.waitForMessage(/Wallet saved/);
    const { id: userId } = await system.call<{ id: string }>('users.byTelegramId', {
      telegramId: String(depositor.id),
    });
    await (
      await attachTestUsdt(system.usdtAddress, system.anvil.wallet(0)).mint(wallet.address, parseUsdt('500'))
    ).wait();

    const tx = await attachTestUsdt(system.usdtAddress, wallet).transfer(system.systemWallet, parseUsdt('100'));
    const receipt = (await tx.wait())!;
    const raw = await system.anvil.send<string>('eth_getRawTransactionByHash', [tx.hash]);
    await system.anvil.mine(2);
    await depositor.waitForMessage(/100 USDT is credited/, 20_000);
    const hash = tx.hash.toLowerCase();
    expect((await system.call<LedgerCheck>('ledger.check')).ok).to.equal(true);

    // The deposit's block and everything after it replaced by empty blocks: the transaction is gone.
    const depth = (await system.anvil.blockNumber()) - receipt.blockNumber + 1;
    await system.anvil.reorg(depth, []);
    await system.anvil.mine(1);
    await waitForTransferStatus(system.db.pool, hash, 'reorged_out');

    const alert = await admin.waitForMessage(/A credited deposit left the chain/, 20_000);
    expect(alert.text).to.contain('100 USDT').and.contain(hash).and.contain(`user #${userId}`);
    const reported = await eventually(async () => {
      const check = await system.call<LedgerCheck>('ledger.check');
      return !check.ok && check;
    }, 'ledger.check to report the reorged-out deposit');
    expect(reported.problems).to.have.length(1);
    expect(reported.problems[0]).to.contain(hash).and.contain('left the chain');
    // Nothing reversed: the balance stands and the books still balance.
    const balance = await system.call<{ available: string }>('ledger.balance', { userId });
    expect(balance.available).to.equal(parseUsdt('100').toString());

    // The same signed transaction mined again (its nonce is free once its block is gone).
    await system.anvil.send('eth_sendRawTransaction', [raw]);
    await system.anvil.mine(3);
    await admin.waitForMessage(/is on the chain again/, 20_000);
    await eventually(async () => (await system.call<LedgerCheck>('ledger.check')).ok, 'ledger.check to be clean again');
    const rows = await system.db.pool.query<{ status: string; block_hash: string }>(
      'SELECT status, block_hash FROM observed_transfers WHERE tx_hash = $1',
      [hash],
    );
    expect(rows.rows).to.have.length(1);
    expect(rows.rows[0]!.status).to.equal('confirmed');
    expect(rows.rows[0]!.block_hash).not.to.equal(receipt.blockHash.toLowerCase());
    const deposits = await system.db.pool.query<{ reorged_at: Date | null }>(
      'SELECT reorged_at FROM deposits WHERE tx_hash = $1',
      [hash],
    );
    expect(deposits.rows).to.deep.equal([{ reorged_at: null }]);
    expect((await system.call<{ available: string }>('ledger.balance', { userId })).available).to.equal(
      parseUsdt('100').toString(),
    );
    expect(depositor.messages().filter((m) => /USDT is credited/.test(m.text))).to.have.length(1);
  });
});
