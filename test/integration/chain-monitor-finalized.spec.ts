// chain-monitor with BSC_USE_FINALIZED=true on Anvil (slots-in-an-epoch 1: finalized = latest − 2): a deposit waits
// as 'seen' while its block is above the finalized block, whatever BSC_CONFIRMATION_BLOCKS says, and is confirmed
// and announced to the ledger as soon as `finalized` reaches it.
import { expect } from 'chai';
import type { Redis } from '../../lib/redis';
import { startNode, type Node } from '../../lib/runtime';
import { usersService } from '../../services/users/users.service';
import { chainMonitorService } from '../../services/chain-monitor/chain-monitor.service';
import type { DepositFact } from '../../lib/contracts';
import type { AnvilHandle } from '../support/anvil';
import { startChainBed, type ChainBed } from '../support/chain-bed';
import { testConfig } from '../support/config';
import type { TestDatabase } from '../support/database';
import { channelMessages } from '../support/jetstream';
import { eventually } from '../support/system';
import { attachTestUsdt, parseUsdt } from '../support/usdt';

interface Status {
  cursor: { blockNumber: string } | null;
  lastTick?: { at: string; head: string };
}

type DepositConfirmed = DepositFact & { id: string };

describe('chain-monitor with BSC_USE_FINALIZED', function () {
  this.timeout(60_000);
  let bed: ChainBed;
  let anvil: AnvilHandle;
  let db: TestDatabase;
  let redis: Redis;
  let usdtAddress: string;
  let namespace: string;
  let nodes: Node[];

  before(async () => {
    bed = await startChainBed('final');
    ({ anvil, db, redis, usdtAddress, namespace, nodes } = bed);
  });
  after(async () => bed?.stop());

  const finalized = async () =>
    Number((await anvil.send<{ number: string }>('eth_getBlockByNumber', ['finalized', false])).number);

  const transferRow = async (hash: string) =>
    (
      await db.pool.query<{ status: string; block_number: string; user_id: string | null }>(
        'SELECT status, block_number, user_id FROM observed_transfers WHERE tx_hash = $1',
        [hash],
      )
    ).rows[0];

  const outboxSize = async () => Number((await db.pool.query('SELECT count(*) FROM chain_outbox')).rows[0].count);
  const confirmedMessages = () => channelMessages<DepositConfirmed>(namespace, 'deposits.confirmed');

  it('confirms a deposit when the finalized block reaches it, not after BSC_CONFIRMATION_BLOCKS', async () => {
    const config = testConfig({
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      DATABASE_URL: db.url,
      NAMESPACE: namespace,
      BSC_RPC_URLS: anvil.rpcUrl,
      BSC_CHAIN_ID: String(anvil.chainId),
      BSC_USE_FINALIZED: 'true',
      // Far more than the test ever mines: only the finalized tag may confirm.
      BSC_CONFIRMATION_BLOCKS: '50',
      BSC_POLL_INTERVAL_MS: '50',
      USDT_CONTRACT: usdtAddress,
      SYSTEM_WALLET_ADDRESS: anvil.accounts[9]!.address,
    });
    const users = await startNode(config, [usersService], { db, redis });
    nodes.push(users);
    const { user } = await users.broker.call<{ user: { id: string } }, object>('users.register', {
      telegramId: '5550101',
      firstName: 'Fin',
    });
    const depositor = anvil.accounts[1]!.address;
    await users.broker.call('users.setWallet', { userId: user.id, address: depositor });
    await (await attachTestUsdt(usdtAddress, anvil.wallet(0)).mint(depositor, parseUsdt('100'))).wait();

    const monitor = await startNode(config, [chainMonitorService], { db, redis });
    nodes.push(monitor);
    const status = () => monitor.broker.call<Status>('chain-monitor.status');
    /** Resolves once a tick that began after `block` was mined has completed. */
    const scannedPast = async (block: number) => {
      const since = new Date().toISOString();
      await eventually(async () => {
        const s = await status();
        return (
          s.lastTick !== undefined &&
          s.lastTick.at > since &&
          Number(s.lastTick.head) >= block &&
          Number(s.cursor?.blockNumber ?? -1) >= block
        );
      }, `a completed scan up to block ${block}`);
    };

    const tx = await attachTestUsdt(usdtAddress, anvil.wallet(1)).transfer(anvil.accounts[9]!.address, parseUsdt('25'));
    const receipt = (await tx.wait())!;
    const hash = tx.hash.toLowerCase();
    const block = receipt.blockNumber;
    expect(await finalized()).to.equal(block - 2);

    const seen = await eventually(() => transferRow(hash), 'the deposit observed');
    expect(seen).to.deep.equal({ status: 'seen', block_number: String(block), user_id: user.id });
    // Seen is announced to the depositor at once ("we see your deposit"), confirmed is not.
    const detected = await eventually(async () => {
      const messages = await channelMessages<{ id: string; userId: string; template: string; params: object }>(
        namespace,
        'notifications.requested',
      );
      return messages.length > 0 && messages;
    }, 'the deposit.detected notification published');
    expect(detected.map((m) => m.data)).to.have.length(1);
    expect(detected[0]!.data).to.deep.include({ userId: user.id, template: 'deposit.detected' });
    expect(detected[0]!.data.params).to.include({ amount: parseUsdt('25').toString(), txHash: hash });

    // One block on: finalized is block − 1, still below the deposit.
    await anvil.mine(1);
    expect(await finalized()).to.equal(block - 1);
    await scannedPast(block + 1);
    await scannedPast(block + 1);
    expect((await transferRow(hash))?.status).to.equal('seen');
    expect(await confirmedMessages()).to.deep.equal([]);

    // Two blocks on: finalized reaches the deposit's block (48 blocks short of BSC_CONFIRMATION_BLOCKS).
    await anvil.mine(1);
    expect(await finalized()).to.equal(block);
    await eventually(async () => (await transferRow(hash))?.status === 'confirmed', 'the deposit confirmed');

    const announced = await eventually(async () => {
      const messages = await confirmedMessages();
      return messages.length > 0 && (await outboxSize()) === 0 && messages;
    }, 'deposits.confirmed published and chain_outbox drained');
    expect(announced.map((m) => m.data)).to.deep.equal([
      {
        // seen (revision 1), then confirmed (revision 2)
        id: `deposit-confirmed:${anvil.chainId}:${hash}:${Number(receipt.logs[0]!.index)}:r2`,
        chainId: anvil.chainId,
        txHash: hash,
        logIndex: Number(receipt.logs[0]!.index),
        blockNumber: String(block),
        blockHash: receipt.blockHash.toLowerCase(),
        fromAddress: depositor,
        userId: user.id,
        amount: parseUsdt('25').toString(),
        revision: 2,
      },
    ]);

    // More blocks change nothing: announced once.
    await anvil.mine(3);
    await scannedPast(block + 5);
    expect(await confirmedMessages()).to.have.length(1);
    expect(await outboxSize()).to.equal(0);
  });
});
