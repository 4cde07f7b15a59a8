// chain-monitor against a provider that fails calls and refuses wide log ranges, with a dead first URL:
// every deposit is still seen, confirmed and announced exactly once.
import { expect } from 'chai';
import type { Config } from '../../services';
import type { Redis } from '../../lib/redis';
import { startNode, type Node } from '../../lib/runtime';
import { chainMonitorService } from '../../services/chain-monitor/chain-monitor.service';
import { usersService } from '../../services/users/users.service';
import type { AnvilHandle } from '../support/anvil';
import { startChainBed, type ChainBed } from '../support/chain-bed';
import { testConfig } from '../support/config';
import type { TestDatabase } from '../support/database';
import { startFlakyRpc, type FlakyRpc } from '../support/flaky-rpc';
import { eventually, waitForTransferStatus } from '../support/system';
import { attachTestUsdt, parseUsdt } from '../support/usdt';

describe('chain-monitor on a faulty provider', function () {
  this.timeout(90_000);
  let bed: ChainBed;
  let anvil: AnvilHandle;
  let db: TestDatabase;
  let redis: Redis;
  let rpc: FlakyRpc;
  let usdtAddress: string;
  let namespace: string;
  let nodes: Node[];

  const configFor = (overrides: Record<string, string> = {}): Config =>
    testConfig({
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      DATABASE_URL: db.url,
      NAMESPACE: namespace,
      // The first URL refuses connections: every call must fail over to the second.
      BSC_RPC_URLS: `http://127.0.0.1:9,${rpc.url}`,
      BSC_CONFIRMATION_BLOCKS: '5',
      BSC_POLL_INTERVAL_MS: '50',
      USDT_CONTRACT: usdtAddress,
      SYSTEM_WALLET_ADDRESS: anvil.accounts[9]!.address,
      ...overrides,
    });

  before(async () => {
    bed = await startChainBed('chain');
    ({ anvil, db, redis, usdtAddress, namespace, nodes } = bed);
    rpc = await startFlakyRpc({ target: anvil.rpcUrl, failEvery: 7, maxLogRange: 40 });
  });
  after(async () => {
    await bed?.stop();
    await rpc?.close();
  });

  it('sees, confirms and announces every deposit once, failing over and shrinking its log window', async () => {
    const users = await startNode(configFor(), [usersService], { db, redis });
    nodes.push(users);
    const sender = anvil.wallet(1);
    const { user } = await users.broker.call<{ user: { id: string } }, object>('users.register', {
      telegramId: '5550001',
      firstName: 'Sam',
    });
    await users.broker.call('users.setWallet', { userId: user.id, address: anvil.accounts[1]!.address });
    const usdt = attachTestUsdt(usdtAddress, anvil.wallet(0));
    await (await usdt.mint(anvil.accounts[1]!.address, parseUsdt('1000'))).wait();

    const sent: string[] = [];
    for (let i = 0; i < 25; i++) {
      const tx = await attachTestUsdt(usdtAddress, sender).transfer(anvil.accounts[9]!.address, parseUsdt(`${i + 1}`));
      await tx.wait();
      sent.push(tx.hash.toLowerCase());
      await anvil.mine(9);
    }
    await anvil.mine(5);

    const monitor = await startNode(configFor(), [chainMonitorService], { db, redis });
    nodes.push(monitor);
    const confirmed = await eventually(
      async () => {
        const { rows } = await db.pool.query<{ tx_hash: string; status: string; user_id: string }>(
          `SELECT tx_hash, status, user_id FROM observed_transfers ORDER BY block_number`,
        );
        return rows.length === 25 && rows.every((r) => r.status === 'confirmed') && rows;
      },
      'all 25 deposits confirmed',
      60_000,
    );
    expect(confirmed.map((r) => r.tx_hash)).to.deep.equal(sent);
    expect(confirmed.every((r) => r.user_id === user.id)).to.equal(true);
    await eventually(
      async () => (await db.pool.query('SELECT 1 FROM chain_outbox')).rowCount === 0,
      'the outbox drained',
    );

    // The provider's faults really happened, and were survived.
    expect(rpc.requests.filter((r) => r.failed === 'http-500').length).to.be.greaterThan(0);
    expect(rpc.requests.filter((r) => r.failed === 'range').length).to.be.greaterThan(0);
    const status = await monitor.broker.call<{ cursor: { blockNumber: string }; lastError?: string }>(
      'chain-monitor.status',
    );
    expect(Number(status.cursor.blockNumber)).to.be.at.least((await anvil.blockNumber()) - 1);
  });

  it('does not drop a deposit because a confirmation re-read left it out', async () => {
    const tx = await attachTestUsdt(usdtAddress, anvil.wallet(1)).transfer(anvil.accounts[9]!.address, parseUsdt('42'));
    await tx.wait();
    const hash = tx.hash.toLowerCase();
    await waitForTransferStatus(db.pool, hash, 'seen');
    // A lagging node answers the confirmation re-reads without it, a few times.
    rpc.omitLogsOf(hash, 3);
    await anvil.mine(6);
    // Confirmed once the provider answers properly.
    const rows = await waitForTransferStatus(db.pool, hash, 'confirmed', 30_000);
    expect(rpc.omitted).to.equal(3);
    expect(rows).to.have.length(1);
  });

  it('refuses to start when the RPC reports another chain, naming the variable', async () => {
    const error = await startNode(configFor({ BSC_CHAIN_ID: '97' }), [chainMonitorService], { db, redis }).catch(
      (e: Error) => e,
    );
    expect(String(error)).to.match(
      /^(StartupError: )?BSC_CHAIN_ID: the RPC \(BSC_RPC_URLS\) serves chain id 56, not 97; set BSC_CHAIN_ID=56/,
    );
  });

  it('refuses to start when the token decimals differ from USDT_DECIMALS', async () => {
    const error = await startNode(configFor({ USDT_DECIMALS: '6' }), [chainMonitorService], { db, redis }).catch(
      (e: Error) => e,
    );
    expect(String(error)).to.match(
      /USDT_DECIMALS: USDT_CONTRACT \(0x\w+\) has 18 decimals, but USDT_DECIMALS is 6; set USDT_DECIMALS=18/,
    );
  });
});
