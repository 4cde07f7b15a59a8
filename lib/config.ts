// Every environment variable the system reads, validated at start-up. `.env.example` documents each one
// (a unit test keeps the two in step).
import { normaliseAddress } from './address';
import { parseAmount, parseRate, RATE_SCALE } from './money';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

type Parser<T> = (raw: string) => T;

interface Variable<T> {
  description: string;
  default?: string;
  secret?: boolean;
  parse: Parser<T>;
}

const text: Parser<string> = (raw) => raw;

const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new Error(`must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${raw}`);
    return n;
  };

const blockNumber: Parser<bigint> = (raw) => {
  if (!/^\d+$/.test(raw)) throw new Error(`must be a block number, got "${raw}"`);
  return BigInt(raw);
};

const boolean: Parser<boolean> = (raw) => {
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
};

const address: Parser<string> = (raw) => normaliseAddress(raw);

const url =
  (...protocols: string[]): Parser<string> =>
  (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error(`must be a URL, got "${raw}"`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new Error(`must be a ${protocols.join(' or ')} URL, got "${parsed.protocol}"`);
    }
    return raw.replace(/\/+$/, '');
  };

const urlList =
  (...protocols: string[]): Parser<string[]> =>
  (raw) => {
    const list = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (list.length === 0) throw new Error('must list at least one URL');
    return list.map(url(...protocols));
  };

const optional =
  <T>(parse: Parser<T>): Parser<T | undefined> =>
  (raw) =>
    raw === '' ? undefined : parse(raw);

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    if (!values.includes(raw as T)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };

/** A human USDT amount, kept as text: it becomes base units once the token's decimals are known. */
const tokenAmount: Parser<string> = (raw) => {
  parseAmount(raw, 18);
  return raw;
};

const rate: Parser<bigint> = (raw) => parseRate(raw);

const telegramIds: Parser<string[]> = (raw) => {
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = ids.find((id) => !/^\d{1,19}$/.test(id));
  if (bad !== undefined) throw new Error(`must be comma-separated Telegram user ids (digits), got "${bad}"`);
  return [...new Set(ids)];
};

const botToken: Parser<string> = (raw) => {
  if (!/^\d+:[A-Za-z0-9_-]{20,}$/.test(raw)) throw new Error('must look like 123456:ABC-DEF… (from @BotFather)');
  return raw;
};

const webhookSecret: Parser<string | undefined> = optional((raw) => {
  if (!/^[A-Za-z0-9_-]{1,256}$/.test(raw)) throw new Error('must be 1-256 characters of A-Z, a-z, 0-9, _ and -');
  return raw;
});

export const variables = {
  NODE_ENV: {
    description: 'production, development or test',
    default: 'production',
    parse: oneOf('production', 'development', 'test'),
  },
  SERVICES: { description: 'Comma-separated services this process runs (empty: all)', default: '', parse: text },
  NODE_ID: { description: 'Moleculer node id (defaults to host name and pid)', default: '', parse: text },
  LOG_LEVEL: {
    description: 'pino log level',
    default: 'info',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },

  DATABASE_URL: { description: 'PostgreSQL connection URL', parse: url('postgres:', 'postgresql:'), secret: true },
  DATABASE_POOL_SIZE: { description: 'PostgreSQL connections per process', default: '10', parse: integer(1, 200) },
  REDIS_URL: {
    description: 'Redis URL (update de-duplication, rate limits, bans, sessions)',
    default: 'redis://127.0.0.1:6379',
    parse: url('redis:', 'rediss:'),
    secret: true,
  },
  NATS_URL: {
    description: 'NATS server URL with JetStream (transporter and durable channels)',
    default: 'nats://127.0.0.1:4222',
    parse: url('nats:', 'tls:'),
    secret: true,
  },
  NAMESPACE: {
    description: 'Moleculer namespace and prefix of JetStream streams (lets several installations share one NATS)',
    default: 'sigmatrade',
    parse: (raw: string) => {
      if (!/^[a-z0-9_-]+$/i.test(raw)) throw new Error('must be letters, digits, _ or -');
      return raw;
    },
  },

  TELEGRAM_BOT_TOKEN: { description: 'Bot token from @BotFather', parse: botToken, secret: true },
  TELEGRAM_API_ROOT: {
    description: 'Bot API base URL',
    default: 'https://api.telegram.org',
    parse: url('http:', 'https:'),
  },
  TELEGRAM_WEBHOOK_DOMAIN: {
    description: 'Public HTTPS base URL of the HTTP gateway; webhook mode when set, long polling otherwise',
    default: '',
    parse: optional(url('https:', 'http:')),
  },
  TELEGRAM_WEBHOOK_SECRET: {
    description: 'Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (required in webhook mode)',
    default: '',
    parse: webhookSecret,
    secret: true,
  },
  METRICS_PORT: {
    description: 'Port of the Prometheus /metrics endpoint of this node (0 turns it off)',
    default: '3030',
    parse: integer(0, 65535),
  },
  HTTP_PORT: { description: 'Port of the HTTP gateway (webhook, health)', default: '3000', parse: integer(0, 65535) },
  HTTP_HOST: { description: 'Address the HTTP gateway binds to', default: '0.0.0.0', parse: text },

  BSC_RPC_URLS: {
    description: 'BSC JSON-RPC URLs, comma-separated, tried in order',
    parse: urlList('http:', 'https:'),
    secret: true,
  },
  BSC_CHAIN_ID: { description: 'Chain id the RPC must report (56 for BSC mainnet)', default: '56', parse: integer(1) },
  BSC_START_BLOCK: { description: 'First block to scan when no cursor is stored yet', parse: blockNumber },
  BSC_CONFIRMATION_BLOCKS: {
    description: 'Confirmations before a deposit is credited',
    default: '12',
    parse: integer(1, 10_000),
  },
  BSC_USE_FINALIZED: {
    description: "Wait for the chain's finalized tag instead of counting confirmations",
    default: 'false',
    parse: boolean,
  },
  BSC_SCAN_WINDOW_BLOCKS: {
    description: 'Largest eth_getLogs block range (shrinks when a provider refuses)',
    default: '5000',
    parse: integer(1, 1_000_000),
  },
  BSC_POLL_INTERVAL_MS: {
    description: 'How often chain-monitor looks for a new head',
    default: '250',
    parse: integer(10, 600_000),
  },
  USDT_CONTRACT: {
    description: 'USDT (BEP-20) contract address',
    default: '0x55d398326f99059fF775485246999027B3197955',
    parse: address,
  },
  USDT_DECIMALS: {
    description: "USDT decimals (checked against the contract's decimals() at start-up)",
    default: '18',
    parse: integer(0, 36),
  },
  SYSTEM_WALLET_ADDRESS: { description: 'Wallet that receives deposits', parse: address },

  DEPOSIT_LEVEL_1: { description: 'Smallest USDT amount of deposit level 1', default: '10', parse: tokenAmount },
  DEPOSIT_LEVEL_2: { description: 'Smallest USDT amount of deposit level 2', default: '50', parse: tokenAmount },
  DEPOSIT_LEVEL_3: { description: 'Smallest USDT amount of deposit level 3', default: '100', parse: tokenAmount },
  DEPOSIT_LEVEL_4: { description: 'Smallest USDT amount of deposit level 4', default: '250', parse: tokenAmount },
  DEPOSIT_LEVEL_5: { description: 'Smallest USDT amount of deposit level 5', default: '500', parse: tokenAmount },
  DEPOSIT_LEVEL_6: { description: 'Smallest USDT amount of deposit level 6', default: '1000', parse: tokenAmount },
  REFERRAL_ENABLED: { description: 'Pay referral commissions on deposits', default: 'true', parse: boolean },
  REFERRAL_RATE_LEVEL_1: {
    description: 'Commission share of a deposit for the direct referrer',
    default: '0.05',
    parse: rate,
  },
  REFERRAL_RATE_LEVEL_2: {
    description: 'Commission share for the second-level referrer',
    default: '0.04',
    parse: rate,
  },
  REFERRAL_RATE_LEVEL_3: { description: 'Commission share for the third-level referrer', default: '0.03', parse: rate },
  MAX_REFERRAL_DEPTH: {
    description: 'How many uplines a new user is linked to (1-3)',
    default: '3',
    parse: integer(1, 3),
  },

  ADMIN_TELEGRAM_IDS: {
    description: 'Telegram user ids of the admins, comma-separated: they receive alerts (a deep reorg, …)',
    default: '',
    parse: telegramIds,
  },

  NOTIFICATION_RETRY_INTERVAL_MS: {
    description: 'How often the notification-retry job resends failed notifications',
    default: '300000',
    parse: integer(1000),
  },

  RATE_LIMIT_WINDOW_MS: { description: 'Per-user rate-limit window', default: '60000', parse: integer(1000) },
  RATE_LIMIT_MAX_REQUESTS: { description: 'Updates a user may send per window', default: '20', parse: integer(1) },
} satisfies Record<string, Variable<unknown>>;

type Variables = typeof variables;
export type VariableName = keyof Variables;
export type Config = { [K in VariableName]: ReturnType<Variables[K]['parse']> };

/** Reads and validates every variable; throws ConfigError naming each bad or missing one. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(variables) as [VariableName, Variable<unknown>][]) {
    // An empty value means "not set", so a copied .env.example with blank lines keeps the defaults.
    const raw = env[name]?.trim() || spec.default;
    if (raw === undefined || (raw === '' && spec.default === undefined)) {
      problems.push(`${name} is required: ${spec.description}`);
      continue;
    }
    try {
      config[name] = spec.parse(raw);
    } catch (error) {
      const message = (error as Error).message;
      // A secret's value, or any part of it the parser quotes, never reaches the log.
      problems.push(
        `${name} ${
          spec.secret
            ? message
                .split(raw)
                .join('[redacted]')
                .replace(/"[^"]*"/g, '"[redacted]"')
            : message
        }`,
      );
    }
  }
  const result = config as Config;
  if (problems.length === 0) problems.push(...crossCheck(result));
  if (problems.length > 0) throw new ConfigError(problems);
  return result;
}

function crossCheck(config: Config): string[] {
  const problems: string[] = [];
  if (config.TELEGRAM_WEBHOOK_DOMAIN && !config.TELEGRAM_WEBHOOK_SECRET) {
    problems.push('TELEGRAM_WEBHOOK_SECRET is required when TELEGRAM_WEBHOOK_DOMAIN is set (webhook mode)');
  }
  let levels: bigint[] = [];
  try {
    levels = depositLevels(config).map((level) => parseAmount(level, config.USDT_DECIMALS));
  } catch (error) {
    problems.push(`DEPOSIT_LEVEL_n ${(error as Error).message} (USDT_DECIMALS is ${config.USDT_DECIMALS})`);
  }
  if (levels[0] === 0n) problems.push('DEPOSIT_LEVEL_1 must be above zero');
  const rateSum = config.REFERRAL_RATE_LEVEL_1 + config.REFERRAL_RATE_LEVEL_2 + config.REFERRAL_RATE_LEVEL_3;
  if (rateSum >= RATE_SCALE) problems.push('REFERRAL_RATE_LEVEL_1..3 must add up to less than 1');
  for (let i = 1; i < levels.length; i++) {
    if (levels[i]! <= levels[i - 1]!) problems.push(`DEPOSIT_LEVEL_${i + 1} must be larger than DEPOSIT_LEVEL_${i}`);
  }
  return problems;
}

export function depositLevels(config: Pick<Config, `DEPOSIT_LEVEL_${1 | 2 | 3 | 4 | 5 | 6}`>): string[] {
  return [
    config.DEPOSIT_LEVEL_1,
    config.DEPOSIT_LEVEL_2,
    config.DEPOSIT_LEVEL_3,
    config.DEPOSIT_LEVEL_4,
    config.DEPOSIT_LEVEL_5,
    config.DEPOSIT_LEVEL_6,
  ];
}

export function referralRates(config: Pick<Config, `REFERRAL_RATE_LEVEL_${1 | 2 | 3}` | 'REFERRAL_ENABLED'>): bigint[] {
  if (!config.REFERRAL_ENABLED) return [];
  return [config.REFERRAL_RATE_LEVEL_1, config.REFERRAL_RATE_LEVEL_2, config.REFERRAL_RATE_LEVEL_3];
}

/** Loads `.env` (if present) into process.env without overriding what is already set. */
export function loadDotEnv(path = '.env'): void {
  try {
    process.loadEnvFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
