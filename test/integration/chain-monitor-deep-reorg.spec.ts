// A reorg deeper than the confirmation depth that mines an already credited transaction again, at another log
// index: chain-monitor announces the original as reorged out, keeps the copy as 'duplicate', and brings the original
// back under its own key (so the ledger, keyed by it, never credits the deposit a second time).
import { expect } from 'chai';
import type { Redis } from '../../lib/redis';
import { startNode, type Node } from '../../lib/runtime';
import { usersService } from '../../services/users/users.service';
import { chainMonitorService } from '../../services/chain-monitor/chain-monitor.service';
import type { AnvilHandle } from '../support/anvil';
import { startChainBed, type ChainBed } from '../support/chain-bed';
import { testConfig } from '../support/config';
import type { TestDatabase } from '../support/database';
import { channelMessages } from '../support/jetstream';
import { eventually, waitForTransferStatus } from '../support/system';
import { attachTestUsdt, ERC20_INTERFACE, parseUsdt } from '../support/usdt';

describe('chain-monitor after a reorg deeper than the confirmations', function () {
  this.timeout(60_000);
  let bed: ChainBed;
  let anvil: AnvilHandle;
  let db: TestDatabase;
  let redis: Redis;
  let namespace: string;
  let nodes: Node[];

  before(async () => {
    bed = await startChainBed('deep');
    ({ anvil, db, redis, namespace, nodes } = bed);
  });
  after(async () => bed?.stop());

  it('announces a re-mined, already confirmed transaction only under its original key', async () => {
    const usdt = bed.usdtAddress;
    const systemWallet = anvil.accounts[9]!.address;
    const depositor = anvil.accounts[1]!.address;
    const config = testConfig({
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      DATABASE_URL: db.url,
      NAMESPACE: namespace,
      BSC_RPC_URLS: anvil.rpcUrl,
      BSC_CONFIRMATION_BLOCKS: '2',
      BSC_POLL_INTERVAL_MS: '50',
      USDT_CONTRACT: usdt,
      SYSTEM_WALLET_ADDRESS: systemWallet,
    });
    const users = await startNode(config, [usersService], { db, redis });
    nodes.push(users);
    const { user } = await users.broker.call<{ user: { id: string } }, object>('users.register', {
      telegramId: '7770001',
    });
    await users.broker.call('users.setWallet', { userId: user.id, address: depositor });
    const minter = attachTestUsdt(usdt, anvil.wallet(0));
    await (await minter.mint(depositor, parseUsdt('100'))).wait();
    await (await minter.mint(anvil.accounts[2]!.address, parseUsdt('100'))).wait();
    nodes.push(await startNode(config, [chainMonitorService], { db, redis }));

    const tx = await attachTestUsdt(usdt, anvil.wallet(1)).transfer(systemWallet, parseUsdt('10'));
    const receipt = (await tx.wait())!;
    const raw = await anvil.send<string>('eth_getRawTransactionByHash', [tx.hash]);
    await anvil.mine(3);
    const hash = tx.hash.toLowerCase();
    await waitForTransferStatus(db.pool, hash, 'confirmed');

    // Rebuild the chain from below the deposit's block: another transfer to the system wallet comes first in the
    // new block, so the same signed deposit transaction lands at log index 1 instead of 0.
    const depth = (await anvil.blockNumber()) - receipt.blockNumber + 1;
    await anvil.reorg(depth, [
      [
        {
          from: anvil.accounts[2]!.address,
          to: usdt,
          data: ERC20_INTERFACE.encodeFunctionData('transfer', [systemWallet, parseUsdt('1')]),
          gas: 100_000,
        },
        0,
      ],
      [raw, 0],
    ]);
    const moved = await anvil.provider.getTransactionReceipt(tx.hash);
    expect(moved!.logs[0]!.index).to.equal(1);
    await anvil.mine(4);

    const rows = await eventually(async () => {
      const result = await db.pool.query<{ log_index: number; status: string }>(
        'SELECT log_index, status FROM observed_transfers WHERE tx_hash = $1 ORDER BY log_index',
        [hash],
      );
      return result.rows.length === 2 && result.rows[1]!.status !== 'seen' && result.rows;
    }, 'the re-mined copy to be judged');
    expect(rows).to.deep.equal([
      { log_index: 0, status: 'confirmed' },
      { log_index: 1, status: 'duplicate' },
    ]);
    await eventually(
      async () => (await db.pool.query('SELECT 1 FROM chain_outbox')).rowCount === 0,
      'the outbox drained',
    );
    const announced = await channelMessages<{ txHash: string; logIndex: number; blockHash: string; revision: number }>(
      namespace,
      'deposits.confirmed',
    );
    const ofTx = announced.filter((m) => m.data.txHash === hash).map((m) => m.data);
    // Confirmed, then back on the chain in the copy's block: both times as log index 0, the newer with a higher revision.
    expect(ofTx.map((m) => m.logIndex)).to.deep.equal([0, 0]);
    expect(ofTx[0]!.blockHash).to.equal(receipt.blockHash.toLowerCase());
    expect(ofTx[1]!.blockHash).to.equal(moved!.blockHash.toLowerCase());
    expect(ofTx[1]!.revision).to.be.greaterThan(ofTx[0]!.revision);
    const reorged = await channelMessages<{ txHash: string; logIndex: number }>(namespace, 'deposits.reorged');
    expect(reorged.filter((m) => m.data.txHash === hash).map((m) => m.data.logIndex)).to.deep.equal([0]);
  });
});
