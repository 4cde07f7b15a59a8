// What payout specs share: Anvil with a test USDT and a funded hot wallet, a migrated schema, Redis, a NATS
// namespace, users and ledger running in this process (withdrawals are requested through the real ledger), and
// payout nodes started here or as child processes a spec may SIGKILL. A miner keeps blocks coming, so payouts reach
// their depth.
import { randomBytes } from 'node:crypto';
import { Wallet } from 'ethers';
import { loadFullConfig, SERVICE_GROUPS, type Config } from '../../services';
import type { WithdrawalRecord } from '../../lib/contracts';
import { createRedis, type Redis } from '../../lib/redis';
import { startNode, type Node } from '../../lib/runtime';
import { startAnvil, type AnvilAccount, type AnvilHandle, type StartAnvilOptions } from './anvil';
import { testEnv } from './config';
import { createTestDatabase, type TestDatabase } from './database';
import { deleteNamespaceStreams } from './nats';
import { spawnNode, type NodeProcess } from './node-process';
import { quiesce } from './quiesce';
import { creditTestDeposit } from './deposits';
import { eventually } from './system';
import {
  deployTestUsdt,
  mintUsdt,
  parseUsdt,
  transfersFrom,
  type OnChainTransfer,
  type TestUsdtContract,
} from './usdt';

export interface PayoutBedOptions {
  prefix: string;
  env?: Record<string, string>;
  anvil?: StartAnvilOptions;
  /** USDT minted to the hot wallet (default 1,000,000). */
  hotWalletUsdt?: string;
  /** Mine a block every this many ms (default 150; 0: no miner, the spec mines). */
  blockEveryMs?: number;
}

export interface PayoutBed {
  anvil: AnvilHandle;
  usdt: TestUsdtContract;
  usdtAddress: string;
  hot: AnvilAccount;
  db: TestDatabase;
  redis: Redis;
  namespace: string;
  env: Record<string, string>;
  config: Config;
  /** users + ledger, in this process. */
  core: Node;
  startPayout(env?: Record<string, string>): Promise<Node>;
  spawnPayout(env?: Record<string, string>): NodeProcess;
  /** A registered user with a fresh wallet and `balance` USDT credited through the ledger's deposit path. */
  user(balance: string): Promise<{ userId: string; wallet: string }>;
  withdraw(userId: string, amount: string, key?: string): Promise<WithdrawalRecord>;
  withdrawal(id: string): Promise<WithdrawalRecord>;
  waitForStatus(ids: readonly string[], status: string, timeoutMs?: number): Promise<void>;
  /** Every USDT Transfer the hot wallet sent, on the canonical chain. */
  transfersFromHot(): Promise<OnChainTransfer[]>;
  call<T>(action: string, params?: object): Promise<T>;
  quiesce(): Promise<void>;
  stopMiner(): void;
  startMiner(everyMs?: number): void;
  stop(): Promise<void>;
}

export const PAYOUT_OUTBOXES = ['users_outbox', 'ledger_outbox', 'payout_outbox'] as const;
export const PAYOUT_CONSUMERS = [
  ['withdrawals.approved', 'payout'],
  ['payouts.completed', 'ledger'],
] as const;

export async function startPayoutBed(options: PayoutBedOptions): Promise<PayoutBed> {
  const anvil = await startAnvil(options.anvil);
  const { contract: usdt, address: usdtAddress } = await deployTestUsdt(anvil.wallet(0));
  const hot = anvil.accounts[5]!;
  await mintUsdt(usdt, [hot.address], parseUsdt(options.hotWalletUsdt ?? '1000000'));
  const db = await createTestDatabase(options.prefix);
  const redis = createRedis('redis://127.0.0.1:6379');
  const namespace = `${options.prefix}-${randomBytes(4).toString('hex')}`;
  const env = testEnv({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    DATABASE_URL: db.url,
    NAMESPACE: namespace,
    BSC_RPC_URLS: anvil.rpcUrl,
    BSC_CHAIN_ID: String(anvil.chainId),
    BSC_CONFIRMATION_BLOCKS: '3',
    USDT_CONTRACT: usdtAddress,
    DRY_RUN: 'false',
    PAYOUT_WALLET_ADDRESS: hot.address,
    PAYOUT_WALLET_PRIVATE_KEY: hot.privateKey,
    PAYOUT_POLL_INTERVAL_MS: '100',
    PAYOUT_LEASE_SECONDS: '3',
    PAYOUT_STUCK_BLOCKS: '5',
    PAYOUT_RETRY_BASE_SECONDS: '1',
    PAYMENT_RETRY_INTERVAL_MS: '1000',
    PAYOUT_MAX_ATTEMPTS: '3',
    PAYOUT_MIN_GAS_PRICE_GWEI: '1',
    PAYOUT_MAX_GAS_PRICE_GWEI: '500',
    WITHDRAWAL_AUTO_APPROVE_LIMIT: '1000',
    WALLET_CHANGE_COOLDOWN_HOURS: '0',
    ...options.env,
  });
  const config = loadFullConfig(env);
  const core = await startNode(config, [...SERVICE_GROUPS.users, ...SERVICE_GROUPS.ledger], {
    db,
    redis,
    broker: { nodeID: `${namespace}-core` },
  });
  const payouts: Node[] = [];
  const children: NodeProcess[] = [];
  let miner: NodeJS.Timeout | undefined;
  let mining: Promise<unknown> = Promise.resolve();
  const startMiner = (everyMs = options.blockEveryMs ?? 150) => {
    if (everyMs <= 0 || miner) return;
    miner = setInterval(() => {
      mining = mining.then(() => anvil.mine(1).catch(() => undefined));
    }, everyMs);
  };
  const stopMiner = () => {
    clearInterval(miner);
    miner = undefined;
  };
  startMiner();
  let telegramIds = 5_000_000;

  const bed: PayoutBed = {
    anvil,
    usdt,
    usdtAddress,
    hot,
    db,
    redis,
    namespace,
    env,
    config,
    core,
    async startPayout(extra = {}) {
      const node = await startNode(loadFullConfig({ ...env, ...extra }), SERVICE_GROUPS.payout, {
        db,
        redis,
        broker: { nodeID: `${namespace}-payout-${payouts.length}` },
      });
      payouts.push(node);
      await core.broker.waitForServices(['payout'], 10_000);
      return node;
    },
    spawnPayout(extra = {}) {
      const child = spawnNode({
        ...env,
        SERVICES: 'payout',
        NODE_ID: `${namespace}-payout-child-${children.length}`,
        LOG_LEVEL: 'info',
        ...extra,
      });
      children.push(child);
      return child;
    },
    async user(balance) {
      const call = <T>(action: string, params: object) => core.broker.call(action, params) as Promise<T>;
      const { user } = await call<{ user: { id: string } }>('users.register', {
        telegramId: String(telegramIds++),
        languageCode: 'en',
      });
      const wallet = Wallet.createRandom().address;
      await call('users.setWallet', { userId: user.id, address: wallet });
      await creditTestDeposit(db.pool, user.id, parseUsdt(balance), {
        chainId: anvil.chainId,
        fromAddress: wallet,
        notify: true,
      });
      return { userId: user.id, wallet };
    },
    async withdraw(userId, amount, key = randomBytes(8).toString('hex')) {
      const { withdrawal } = await core.broker.call<{ withdrawal: WithdrawalRecord }, object>(
        'ledger.requestWithdrawal',
        { userId, amount: parseUsdt(amount).toString(), idempotencyKey: key },
      );
      return withdrawal;
    },
    async withdrawal(id) {
      return (await core.broker.call<WithdrawalRecord, object>('ledger.withdrawal', { withdrawalId: id }))!;
    },
    async waitForStatus(ids, status, timeoutMs = 60_000) {
      await eventually(
        async () => {
          const { rows } = await db.pool.query<{ n: string }>(
            'SELECT count(*) AS n FROM withdrawals WHERE id = ANY($1::bigint[]) AND status = $2',
            [ids, status],
          );
          return Number(rows[0]!.n) === ids.length;
        },
        `${ids.length} withdrawal(s) to be ${status}`,
        timeoutMs,
      );
    },
    transfersFromHot: () => transfersFrom(anvil.provider, usdtAddress, hot.address),
    call: (action, params = {}) => core.broker.call(action, params),
    quiesce: () => quiesce({ pool: db.pool, outboxes: PAYOUT_OUTBOXES, namespace, consumers: PAYOUT_CONSUMERS }),
    stopMiner,
    startMiner,
    async stop() {
      stopMiner();
      await mining;
      for (const child of children) await child.kill('SIGKILL');
      for (const node of payouts.reverse()) await node.stop();
      await core.stop();
      redis.disconnect();
      await anvil.stop();
      await db.drop();
      await deleteNamespaceStreams(namespace);
    },
  };
  return bed;
}
