// What the integration specs of Telegram-facing services stand on: a database schema of their own, Redis, the Bot API
// emulator and a configuration pointing at them, under a NATS namespace of the spec's; stop() takes it all down
// (after the spec has stopped its nodes).
import { randomBytes } from 'node:crypto';
import { createRedis, type Redis } from '../../lib/redis';
import type { Config } from '../../services';
import { testConfig } from './config';
import { createTestDatabase, type TestDatabase } from './database';
import { deleteNamespaceStreams } from './nats';
import { deleteNamespaceKeys } from './redis';
import { TelegramEmulator, type TelegramEmulatorOptions } from './telegram-emulator';

export interface TelegramBed {
  db: TestDatabase;
  redis: Redis;
  emulator: TelegramEmulator;
  namespace: string;
  /** The variables the config was made of, for a spec that needs a variant (testConfig({ ...env, … })). */
  env: Record<string, string>;
  config: Config;
  stop(): Promise<void>;
}

export async function startTelegramBed(
  name: string,
  options: { env?: Record<string, string>; emulator?: TelegramEmulatorOptions } = {},
): Promise<TelegramBed> {
  const db = await createTestDatabase(name.replace(/\W/g, '_'));
  const redis = createRedis('redis://127.0.0.1:6379');
  const emulator = new TelegramEmulator(options.emulator);
  await emulator.start();
  const namespace = `${name}-${randomBytes(4).toString('hex')}`;
  const env = {
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    DATABASE_URL: db.url,
    NAMESPACE: namespace,
    TELEGRAM_API_ROOT: emulator.apiRoot,
    TELEGRAM_BOT_TOKEN: emulator.token,
    ...options.env,
  };
  return {
    db,
    redis,
    emulator,
    namespace,
    env,
    config: testConfig(env),
    async stop() {
      await emulator.stop();
      await deleteNamespaceKeys(redis, namespace);
      redis.disconnect();
      await db.drop();
      await deleteNamespaceStreams(namespace);
    },
  };
}
