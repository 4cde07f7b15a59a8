// chain-monitor: catch-up speed over an Anvil history of 10,000 deposits among other traffic, and how soon a
// deposit is credited after the block that completes its confirmations (the whole system, end to end).
import { serviceLogger } from '../lib/logger';
import { startNode } from '../lib/runtime';
import { loadServicesConfig } from '../services';
import { createRedis } from '../lib/redis';
import { usersService } from '../services/users/users.service';
import { Chain } from '../lib/chain/reads';
import { confirmedMessages, detectedMessages, reorgedMessages } from '../services/chain-monitor/messages';
import { FailoverRpc } from '../lib/chain/rpc';
import { DepositScanner } from '../services/chain-monitor/scanner';
import { TransferStore } from '../services/chain-monitor/store';
import { startAnvil } from '../test/support/anvil';
import { buildTransferHistory } from '../test/support/chain-history';
import { createTestDatabase } from '../test/support/database';
import { deleteNamespaceStreams } from '../test/support/nats';
import { startSystem } from '../test/support/system';
import { attachTestUsdt, deployTestUsdt, parseUsdt } from '../test/support/usdt';
import { summarise } from './stats';

export async function benchChainMonitor(options: { transfers: number; blocks: number; latencySamples: number }) {
  return { catchUp: await benchCatchUp(options), creditLatencyMs: await benchCreditLatency(options.latencySamples) };
}

async function benchCatchUp({ transfers, blocks }: { transfers: number; blocks: number }) {
  const anvil = await startAnvil({ accounts: 20, silent: true });
  const db = await createTestDatabase('benchchain');
  const redis = createRedis('redis://127.0.0.1:6379');
  const namespace = `benchchain-${process.pid}`;
  try {
    const { address: usdt } = await deployTestUsdt(anvil.wallet(0));
    const to = anvil.accounts[19]!.address;
    const senders = anvil.accounts.slice(1, 9);
    const built = performance.now();
    const history = await buildTransferHistory({ anvil, usdt, to, senders, transfers, blocks, verify: false });
    const buildSeconds = (performance.now() - built) / 1000;
    await anvil.mine(12);

    // The senders are registered users, resolved through the real users service over NATS.
    const config = loadServicesConfig([usersService], {
      DATABASE_URL: db.url,
      NAMESPACE: namespace,
      METRICS_PORT: '0',
      LOG_LEVEL: 'error',
      SYSTEM_WALLET_ADDRESS: to,
    });
    const users = await startNode(config, [usersService], { db, redis });
    for (const [i, sender] of senders.entries()) {
      const { user } = await users.broker.call<{ user: { id: string } }, object>('users.register', {
        telegramId: String(900_000 + i),
      });
      await users.broker.call('users.setWallet', { userId: user.id, address: sender.address });
    }
    const rpc = new FailoverRpc({ urls: [anvil.rpcUrl], chainId: anvil.chainId, log: serviceLogger('bench') });
    const scanner = new DepositScanner(
      {
        token: usdt,
        systemWallet: to,
        startBlock: BigInt(history.fromBlock),
        confirmations: 12,
        useFinalized: false,
        maxWindow: 5000,
      },
      {
        chain: new Chain(rpc),
        store: new TransferStore(db.pool, anvil.chainId),
        log: serviceLogger('bench'),
        resolveUsers: async (addresses) =>
          new Map(
            Object.entries(await users.broker.call<Record<string, string>, object>('users.byWallets', { addresses })),
          ),
        detectedMessages: (fresh) => detectedMessages(anvil.chainId, 12, fresh),
        confirmedMessages: (matched) => confirmedMessages(anvil.chainId, matched),
        reorgedMessages: (matched) => reorgedMessages(anvil.chainId, matched),
        onCommitted: () => undefined,
      },
    );
    const head = BigInt(await anvil.blockNumber());
    const started = performance.now();
    let result = await scanner.tick();
    let confirmed = result.confirmed;
    while (result.scannedTo < head) {
      result = await scanner.tick();
      confirmed += result.confirmed;
    }
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM observed_transfers WHERE status = 'confirmed' AND user_id IS NOT NULL`,
    );
    if (Number(rows[0]!.n) !== transfers || confirmed !== transfers) {
      throw new Error(`catch-up confirmed ${rows[0]!.n} of ${transfers} deposits`);
    }
    rpc.destroy();
    await users.stop();
    const scannedBlocks = Number(head) - history.fromBlock + 1;
    return {
      blocks: scannedBlocks,
      transfers,
      otherTransactions: history.transactions - transfers,
      seconds: Math.round(seconds * 100) / 100,
      blocksPerSecond: Math.round(scannedBlocks / seconds),
      historyBuildSeconds: Math.round(buildSeconds),
    };
  } finally {
    redis.disconnect();
    await anvil.stop();
    await db.drop();
    await deleteNamespaceStreams(namespace);
  }
}

/** Time from mining the block that completes a deposit's confirmations to the ledger's credit commit. */
async function benchCreditLatency(samples: number) {
  const system = await startSystem({ confirmations: 3, env: { BSC_POLL_INTERVAL_MS: '250' } });
  try {
    const user = system.emulator.user({ first_name: 'Bench' });
    user.sendText('/start');
    await user.waitForMessage(/Welcome/);
    const wallet = system.anvil.accounts[1]!;
    user.sendText(`/wallet ${wallet.address}`);
    await user.waitForMessage(/Wallet saved/);
    await (
      await attachTestUsdt(system.usdtAddress, system.anvil.wallet(0)).mint(wallet.address, parseUsdt('1000000'))
    ).wait();
    const token = attachTestUsdt(system.usdtAddress, system.anvil.wallet(1));
    const latencies: number[] = [];
    for (let i = 0; i < samples; i++) {
      const tx = await token.transfer(system.systemWallet, parseUsdt(String(10 + i)));
      await tx.wait(); // block N
      await system.anvil.mine(1); // N+1
      // Let the scanner see the deposit first, as it would on a live chain, then complete the confirmations.
      await new Promise((resolve) => setTimeout(resolve, 300 + Math.random() * 250));
      await system.anvil.mine(1); // N+2: the third confirmation
      const minedAt = Date.now();
      const credited = await waitForCredit(system, tx.hash);
      latencies.push(credited - minedAt);
    }
    return summarise(latencies);
  } finally {
    await system.stop();
  }
}

async function waitForCredit(system: Awaited<ReturnType<typeof startSystem>>, txHash: string): Promise<number> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { rows } = await system.db.pool.query<{ at: Date }>(
      'SELECT created_at AS at FROM deposits WHERE tx_hash = $1',
      [txHash.toLowerCase()],
    );
    if (rows[0]) return rows[0].at.getTime();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`deposit ${txHash} was not credited within 20 s`);
}
