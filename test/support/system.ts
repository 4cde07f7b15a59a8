// The whole system on real parts for end-to-end specs: Anvil with a test USDT, the Telegram Bot API
// emulator, a PostgreSQL schema of its own, Redis, NATS JetStream, and every service on its own broker.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadFullConfig, type Config } from '../../services';
import { createRedis, type Redis } from '../../lib/redis';
import { startNode, type Node } from '../../lib/runtime';
import { SERVICE_GROUPS, type ServiceGroup } from '../../services';
import { startAnvil, type AnvilHandle } from './anvil';
import { TEST_BOT_TOKEN, testEnv } from './config';
import { createTestDatabase, type TestDatabase } from './database';
import { deleteNamespaceStreams } from './nats';
import { quiesce, SYSTEM_CONSUMERS, SYSTEM_OUTBOXES } from './quiesce';
import { deleteNamespaceKeys } from './redis';
import { TelegramEmulator } from './telegram-emulator';
import { deployTestUsdt, type TestUsdtContract } from './usdt';

export interface SystemOptions {
  confirmations?: number;
  env?: Record<string, string>;
  /** Groups to run in this process; chain-monitor can also run as a child process (`spawnChainMonitor`). */
  groups?: ServiceGroup[];
  /** The Bot API emulator's port on 127.0.0.1 (the sandbox's web chat is served there). Default: a free one. */
  emulatorPort?: number;
  /** The NATS namespace (default e2e-<random>), e.g. scripts/dev.ts's dev-<id>. */
  namespace?: string;
  /** A database schema made by the caller (default: a fresh e2e_… schema of sigmatrade_test). */
  database?: TestDatabase;
  /** Prometheus metrics on this port, served by the node of `group` (default: none). */
  metrics?: { port: number; group: ServiceGroup };
}

export interface TestSystem {
  anvil: AnvilHandle;
  usdt: TestUsdtContract;
  usdtAddress: string;
  systemWallet: string;
  emulator: TelegramEmulator;
  db: TestDatabase;
  redis: Redis;
  config: Config;
  env: Record<string, string>;
  nodes: Map<ServiceGroup, Node>;
  startGroup(group: ServiceGroup): Promise<Node>;
  stopGroup(group: ServiceGroup): Promise<void>;
  /** chain-monitor as its own OS process, so a test can SIGKILL it mid-scan. */
  spawnChainMonitor(extraEnv?: Record<string, string>): ChildProcess;
  call<T>(action: string, params?: object): Promise<T>;
  /** Resolves once outboxes, consumers and the emulator are all quiet: whatever was going to happen has. */
  quiesce(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSystem(options: SystemOptions = {}): Promise<TestSystem> {
  const anvil = await startAnvil();
  const deployer = anvil.wallet(0);
  const { contract: usdt, address: usdtAddress } = await deployTestUsdt(deployer);
  const systemWallet = anvil.accounts[9]!.address;
  const emulator = new TelegramEmulator({ token: TEST_BOT_TOKEN });
  await emulator.start({ port: options.emulatorPort ?? 0 });
  const db = options.database ?? (await createTestDatabase('e2e'));
  const redis = createRedis(options.env?.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const namespace = options.namespace ?? `e2e-${randomBytes(4).toString('hex')}`;
  const env = testEnv({
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'error',
    DATABASE_URL: db.url,
    NAMESPACE: namespace,
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    TELEGRAM_API_ROOT: emulator.apiRoot,
    BSC_RPC_URLS: anvil.rpcUrl,
    BSC_CHAIN_ID: String(anvil.chainId),
    BSC_CONFIRMATION_BLOCKS: String(options.confirmations ?? 3),
    BSC_POLL_INTERVAL_MS: '100',
    USDT_CONTRACT: usdtAddress,
    SYSTEM_WALLET_ADDRESS: systemWallet,
    RATE_LIMIT_MAX_REQUESTS: '100',
    ...options.env,
  });
  const config = loadFullConfig(env);
  const nodes = new Map<ServiceGroup, Node>();
  const startGroup = async (group: ServiceGroup) => {
    const metricsPort = options.metrics?.group === group ? options.metrics.port : config.METRICS_PORT;
    const node = await startNode({ ...config, METRICS_PORT: metricsPort }, SERVICE_GROUPS[group], {
      db,
      redis,
      broker: { nodeID: `${namespace}-${group}` },
    });
    nodes.set(group, node);
    return node;
  };
  const stopGroup = async (group: ServiceGroup) => {
    await nodes.get(group)?.stop();
    nodes.delete(group);
  };
  const children: ChildProcess[] = [];
  const system: TestSystem = {
    anvil,
    usdt,
    usdtAddress,
    systemWallet,
    emulator,
    db,
    redis,
    config,
    env,
    nodes,
    startGroup,
    stopGroup,
    spawnChainMonitor(extraEnv = {}) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
        env: {
          ...process.env,
          ...env,
          SERVICES: 'chain-monitor',
          SKIP_MIGRATIONS: 'true',
          NODE_ID: `${namespace}-chain-child-${children.length}`,
          ...extraEnv,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      children.push(child);
      return child;
    },
    async call<T>(action: string, params: object = {}) {
      const node = nodes.values().next().value as Node;
      return node.broker.call(action, params) as Promise<T>;
    },
    quiesce: () =>
      quiesce({
        pool: db.pool,
        outboxes: SYSTEM_OUTBOXES,
        namespace,
        consumers: SYSTEM_CONSUMERS,
        emulator,
        // chain-monitor has read the chain up to its head (when it runs).
        also: async () => {
          if (!nodes.has('chain-monitor')) return true;
          const head = await anvil.blockNumber();
          const { rows } = await db.pool.query<{ n: string | null }>(
            'SELECT max(block_number) AS n FROM chain_checkpoints',
          );
          return rows[0]!.n !== null && Number(rows[0]!.n) >= head;
        },
      }),
    async stop() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const group of [...nodes.keys()].reverse()) await stopGroup(group);
      await deleteNamespaceKeys(redis, namespace);
      redis.disconnect();
      await emulator.stop();
      await anvil.stop();
      await db.drop();
      await deleteNamespaceStreams(namespace, env.NATS_URL);
    },
  };
  try {
    const groups = options.groups ?? (['bot-gateway', 'ledger', 'notifier', 'chain-monitor'] as ServiceGroup[]);
    for (const group of groups) await startGroup(group);
    // Nodes announce their services with a short debounce: wait until every node knows every service.
    const names = [...new Set(groups.flatMap((g) => SERVICE_GROUPS[g].map((s) => s.name)))];
    for (const node of nodes.values()) await node.broker.waitForServices(names, 10_000);
  } catch (error) {
    await system.stop();
    throw error;
  }
  return system;
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until chain-monitor has recorded the transaction's transfer with `status`; returns its rows. */
export async function waitForTransferStatus(
  pool: Pick<import('pg').Pool, 'query'>,
  txHash: string,
  status: string,
  timeoutMs?: number,
): Promise<{ log_index: number; status: string }[]> {
  return eventually(
    async () => {
      const { rows } = await pool.query<{ log_index: number; status: string }>(
        'SELECT log_index, status FROM observed_transfers WHERE tx_hash = $1 ORDER BY log_index',
        [txHash.toLowerCase()],
      );
      return rows[0]?.status === status && rows;
    },
    `transaction ${txHash} to be ${status}`,
    timeoutMs,
  );
}
