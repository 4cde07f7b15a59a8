// One complete, valid test configuration; each call gets its own NATS namespace so specs never share streams.
import { randomBytes } from 'node:crypto';
import { loadFullConfig, type Config } from '../../services';

export const TEST_SYSTEM_WALLET = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
export const TEST_BOT_TOKEN = '123456789:TEST-sigmatrade-token-abcdefghijklmn';

export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/sigmatrade_test',
    REDIS_URL: 'redis://127.0.0.1:6379',
    NATS_URL: 'nats://127.0.0.1:4222',
    NAMESPACE: `test-${randomBytes(4).toString('hex')}`,
    METRICS_PORT: '0',
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    TELEGRAM_BOT_TOKEN: TEST_BOT_TOKEN,
    BSC_RPC_URLS: 'http://127.0.0.1:8545',
    BSC_START_BLOCK: '0',
    SYSTEM_WALLET_ADDRESS: TEST_SYSTEM_WALLET,
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadFullConfig(testEnv(overrides));
}
