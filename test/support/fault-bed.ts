// What fault specs share: Anvil with a test USDT and funded depositor wallets, the Bot API emulator, a migrated
// database (on the shared PostgreSQL or a private one a spec may stop), a NATS namespace (on the shared server or a
// private one), a complete environment for `scripts/start.ts` child processes, and a client broker for calls.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ServiceBroker } from 'moleculer';
import { createBrokerOptions } from '../../moleculer.config';
import { loadFullConfig, type Config } from '../../services';
import { createPool } from '../../lib/db';
import { rootLogger } from '../../lib/logger';
import { migrateDatabase } from '../../lib/migrate';
import { createRedis } from '../../lib/redis';
import { startAnvil, type AnvilHandle, type DevSigner } from './anvil';
import { testEnv } from './config';
import { createTestDatabase, type TestDatabase } from './database';
import { deleteNamespaceStreams } from './nats';
import { killAllNodes, spawnNode, type NodeProcess } from './node-process';
import { freePort, type PrivateNats, type PrivatePostgres } from './private-servers';
import { deleteNamespaceKeys } from './redis';
import { eventually } from './system';
import { TelegramEmulator } from './telegram-emulator';
import { attachTestUsdt, deployTestUsdt, parseUsdt } from './usdt';

export interface Depositor {
  userId: string;
  telegramId: string;
  wallet: DevSigner;
  address: string;
}

export interface FaultBedOptions {
  prefix: string;
  postgres?: PrivatePostgres;
  nats?: PrivateNats;
  confirmations?: number;
  env?: Record<string, string>;
}

export interface FaultBed {
  anvil: AnvilHandle;
  usdtAddress: string;
  systemWallet: string;
  emulator: TelegramEmulator;
  namespace: string;
  env: Record<string, string>;
  config: Config;
  /** A pool on the spec's database (closed by stop). */
  pool: pg.Pool;
  /** A broker without services on the same bus, for calls into the system. */
  client: ServiceBroker;
  spawn(services: string, extraEnv?: Record<string, string>): NodeProcess;
  /** Registers a user per wallet (Anvil accounts 1…n) through users.register/setWallet and funds the wallet. */
  depositors(count: number): Promise<Depositor[]>;
  /** Sends a USDT deposit on chain (automine mines it at once); returns the transaction hash. */
  deposit(from: Depositor, amount: string): Promise<string>;
  /** How many deposits the ledger holds, and their sum in base units. */
  credited(): Promise<{ count: number; total: bigint }>;
  /** GET /health/ready of a node started with this bed's HTTP_PORT. */
  ready(): Promise<{ status: number; body: { failed?: string[] } | undefined }>;
  stop(): Promise<void>;
}

export async function startFaultBed(options: FaultBedOptions): Promise<FaultBed> {
  const anvil = await startAnvil();
  const { address: usdtAddress } = await deployTestUsdt(anvil.wallet(0));
  const systemWallet = anvil.accounts[9]!.address;
  const emulator = new TelegramEmulator();
  await emulator.start();
  const namespace = `${options.prefix}-${randomBytes(4).toString('hex')}`;

  let testDb: TestDatabase | undefined;
  let databaseUrl: string;
  if (options.postgres) {
    databaseUrl = options.postgres.url('sigmatrade');
    const admin = new pg.Client({ connectionString: options.postgres.url('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE sigmatrade').catch((error: { code?: string }) => {
      if (error.code !== '42P04') throw error;
    });
    await admin.end();
    await migrateDatabase(databaseUrl);
  } else {
    testDb = await createTestDatabase(options.prefix.replace(/-/g, '_'));
    databaseUrl = testDb.url;
  }
  const httpPort = await freePort();
  const env = testEnv({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    DATABASE_URL: databaseUrl,
    NAMESPACE: namespace,
    ...(options.nats ? { NATS_URL: options.nats.url } : {}),
    TELEGRAM_BOT_TOKEN: emulator.token,
    TELEGRAM_API_ROOT: emulator.apiRoot,
    BSC_RPC_URLS: anvil.rpcUrl,
    BSC_CHAIN_ID: String(anvil.chainId),
    BSC_CONFIRMATION_BLOCKS: String(options.confirmations ?? 2),
    BSC_POLL_INTERVAL_MS: '100',
    USDT_CONTRACT: usdtAddress,
    SYSTEM_WALLET_ADDRESS: systemWallet,
    HTTP_PORT: String(httpPort),
    RATE_LIMIT_MAX_REQUESTS: '1000',
    ...options.env,
  });
  const config = loadFullConfig(env);
  // createPool survives the spec stopping this PostgreSQL on purpose.
  const pool = createPool(databaseUrl, 3, rootLogger().child({ service: 'fault-bed' }, { level: 'silent' }));
  const client = new ServiceBroker(
    createBrokerOptions({ ...config, LOG_LEVEL: 'warn' }, { nodeID: `${namespace}-client`, logger: false }),
  );
  await client.start();
  let nodeCount = 0;

  const bed: FaultBed = {
    anvil,
    usdtAddress,
    systemWallet,
    emulator,
    namespace,
    env,
    config,
    pool,
    client,
    spawn(services, extraEnv = {}) {
      // At info level: its start-up line is what NodeProcess.started() waits for, and the log helps a failing spec.
      return spawnNode({
        ...env,
        LOG_LEVEL: 'info',
        SERVICES: services,
        NODE_ID: `${namespace}-${nodeCount++}`,
        ...extraEnv,
      });
    },
    async depositors(count) {
      await client.waitForServices(['users'], 30_000);
      const minter = attachTestUsdt(usdtAddress, anvil.wallet(0));
      const result: Depositor[] = [];
      for (let i = 1; i <= count; i++) {
        const wallet = anvil.wallet(i);
        const tg = emulator.user({ first_name: `Depositor ${i}`, language_code: 'en' });
        tg.sendText('/start'); // Telegram lets a bot write only to users who started it
        const telegramId = String(tg.id);
        const { user } = await client.call<{ user: { id: string } }, object>(
          'users.register',
          { telegramId, firstName: `Depositor ${i}`, languageCode: 'en' },
          { retries: 5, timeout: 5000 },
        );
        await client.call('users.setWallet', { userId: user.id, address: wallet.address }, { timeout: 5000 });
        await (await minter.mint(wallet.address, parseUsdt('1000000'))).wait();
        result.push({ userId: user.id, telegramId, wallet, address: wallet.address });
      }
      return result;
    },
    async deposit(from, amount) {
      const tx = await attachTestUsdt(usdtAddress, from.wallet).transfer(systemWallet, parseUsdt(amount));
      await tx.wait();
      return tx.hash.toLowerCase();
    },
    async credited() {
      const { rows } = await pool.query<{ count: string; total: string }>(
        'SELECT count(*) AS count, COALESCE(sum(amount), 0)::text AS total FROM deposits',
      );
      return { count: Number(rows[0]!.count), total: BigInt(rows[0]!.total) };
    },
    async ready() {
      try {
        const response = await fetch(`http://127.0.0.1:${httpPort}/health/ready`, {
          signal: AbortSignal.timeout(4000),
        });
        return { status: response.status, body: (await response.json()) as { failed?: string[] } };
      } catch {
        return { status: 0, body: undefined };
      }
    },
    async stop() {
      await killAllNodes();
      await client.stop().catch(() => undefined);
      await pool.end().catch(() => undefined);
      await emulator.stop();
      await anvil.stop();
      await testDb?.drop();
      if (!options.nats) await deleteNamespaceStreams(namespace);
      const redis = createRedis(env.REDIS_URL!);
      await deleteNamespaceKeys(redis, namespace).finally(() => redis.disconnect());
    },
  };
  return bed;
}

/** Waits until the ledger holds `count` deposits (and never more). */
export async function waitForCredits(bed: FaultBed, count: number, timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      const { count: credited } = await bed.credited();
      if (credited > count) throw new Error(`${credited} deposits credited, only ${count} were made`);
      return credited === count;
    },
    `${count} deposits credited`,
    timeoutMs,
  );
}
