// What a node needs to run services: validated config, its database handles, Redis, a logger, and the broker.
import { ServiceBroker, type BrokerOptions, type ServiceSchema } from 'moleculer';
import { createBrokerOptions } from '../moleculer.config';
import type { ChannelAdapter } from './channels';
import type { CommonConfig, ConfigOf, ConfigSpec, VariableSet } from './config';
import { createDatabase, type Database } from './db';
import { rootLogger, type Logger } from './logger';
import { assertPortsFree } from './ports';
import { createRedis, type Redis } from './redis';

export interface Runtime<C = CommonConfig> {
  config: C;
  db: Database;
  redis: Redis;
  log: Logger;
}

/** A process's validated configuration: the common variables and those of every service it runs. */
export type NodeConfig = CommonConfig & Record<string, unknown>;

/** One Moleculer service: the variables it reads, and its schema built from the node's runtime. */
export interface ServiceDefinition {
  readonly name: string;
  readonly config: ConfigSpec;
  create(runtime: Runtime<NodeConfig>): ServiceSchema;
}

export function defineService<V extends VariableSet>(
  name: string,
  config: ConfigSpec<V>,
  create: (runtime: Runtime<CommonConfig & ConfigOf<V>>) => ServiceSchema,
): ServiceDefinition {
  return {
    name,
    config: config as ConfigSpec,
    // The node validated this service's variables before it creates the service (services/index.ts).
    create: (runtime) => create(runtime as Runtime<CommonConfig & ConfigOf<V>>),
  };
}

export interface RuntimeOverrides {
  db?: Database;
  redis?: Redis;
  broker?: Partial<BrokerOptions>;
}

export interface Node {
  broker: ServiceBroker;
  runtime: Runtime<NodeConfig>;
  stop(): Promise<void>;
}

/** Starts one broker with the given service factories; closes what it opened on stop. */
export async function startNode(
  config: NodeConfig,
  services: readonly ServiceDefinition[],
  overrides: RuntimeOverrides = {},
): Promise<Node> {
  // A busy port is one line naming its variable, before anything connects or listens.
  await assertPortsFree([
    ...(overrides.broker?.metrics === undefined ? [{ variable: 'METRICS_PORT', port: config.METRICS_PORT }] : []),
    ...(services.some((service) => service.name === 'api')
      ? [{ variable: 'HTTP_PORT', port: Number(config['HTTP_PORT'] ?? 0), host: String(config['HTTP_HOST'] ?? '') }]
      : []),
  ]);
  const db = overrides.db ?? createDatabase(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const redis = overrides.redis ?? createRedis(config.REDIS_URL);
  const runtime: Runtime<NodeConfig> = { config, db, redis, log: rootLogger() };
  runtime.log.level = config.LOG_LEVEL;
  const broker = new ServiceBroker(createBrokerOptions(config, overrides.broker));
  for (const service of new Set(services)) broker.createService(service.create(runtime));
  try {
    await broker.start();
  } catch (error) {
    await broker.stop().catch(() => undefined);
    if (!overrides.db) await db.close();
    if (!overrides.redis) redis.disconnect();
    throw error;
  }
  return {
    broker,
    runtime,
    async stop() {
      await broker.stop();
      if (!overrides.db) await db.close();
      if (!overrides.redis) redis.disconnect();
    },
  };
}

/** broker.sendToChannel, typed; resolves once JetStream has stored the message. */
export function channelAdapter(broker: ServiceBroker): ChannelAdapter {
  return (broker as unknown as { channelAdapter: ChannelAdapter }).channelAdapter;
}

export async function sendToChannel(
  broker: ServiceBroker,
  channel: string,
  payload: object,
  msgID?: string,
): Promise<void> {
  await (broker as unknown as { sendToChannel(c: string, p: object, o?: object): Promise<void> }).sendToChannel(
    channel,
    payload,
    msgID ? { msgID } : {},
  );
}
