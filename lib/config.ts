// Configuration is environment variables, validated at start-up. Each service declares the variables it reads
// (services/<name>/config.ts); a process validates the common ones and those of the services it runs, one clear
// line per missing or malformed variable. `.env.example` documents every one (a spec keeps the two in step).
import { normaliseAddress } from './address';
import { parseAmount, parseRate } from './money';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

export type Parser<T> = (raw: string) => T;

export interface Variable<T = unknown> {
  description: string;
  default?: string;
  secret?: boolean;
  parse: Parser<T>;
}

export type VariableSet = Record<string, Variable>;
export type ConfigOf<V extends VariableSet> = { [K in keyof V]: ReturnType<V[K]['parse']> };

/** A service's variables, and the checks that need several of them (each problem one line). */
export interface ConfigSpec<V extends VariableSet = VariableSet> {
  variables: V;
  crossCheck?(config: ConfigOf<V>): string[];
}

export const defineConfig = <V extends VariableSet>(
  variables: V,
  crossCheck?: (config: NoInfer<ConfigOf<V>>) => string[],
): ConfigSpec<V> => ({ variables, ...(crossCheck ? { crossCheck } : {}) });

// ---- Parsers ------------------------------------------------------------------------------------------------

export const text: Parser<string> = (raw) => raw;

export const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new Error(`must be a whole number, got "${raw}"`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`must be between ${min} and ${max}, got ${raw}`);
    return n;
  };

export const blockNumber: Parser<bigint> = (raw) => {
  if (!/^\d+$/.test(raw)) throw new Error(`must be a block number, got "${raw}"`);
  return BigInt(raw);
};

export const boolean: Parser<boolean> = (raw) => {
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new Error(`must be true or false, got "${raw}"`);
};

export const address: Parser<string> = (raw) => normaliseAddress(raw);

export const url =
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

export const urlList =
  (...protocols: string[]): Parser<string[]> =>
  (raw) => {
    const list = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (list.length === 0) throw new Error('must list at least one URL');
    return list.map(url(...protocols));
  };

export const optional =
  <T>(parse: Parser<T>): Parser<T | undefined> =>
  (raw) =>
    raw === '' ? undefined : parse(raw);

export const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    if (!values.includes(raw as T)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };

/** A human USDT amount, kept as text: it becomes base units once the token's decimals are known. */
export const tokenAmount: Parser<string> = (raw) => {
  parseAmount(raw, 18);
  return raw;
};

export const rate: Parser<bigint> = (raw) => parseRate(raw);

export const telegramIds: Parser<string[]> = (raw) => {
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

// ---- Variables more than one service reads --------------------------------------------------------------------

/** Every process: where it runs, its database, Redis and the bus. */
export const common = defineConfig({
  NODE_ENV: {
    description: 'production, development or test',
    default: 'production',
    parse: oneOf('production', 'development', 'test'),
  },
  SERVICES: { description: 'Comma-separated service groups this process runs (empty: all)', default: '', parse: text },
  NODE_ID: { description: 'Moleculer node id (defaults to host name and pid)', default: '', parse: text },
  LOG_LEVEL: {
    description: 'pino log level',
    default: 'info',
    parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'),
  },
  DATABASE_URL: { description: 'PostgreSQL connection URL', parse: url('postgres:', 'postgresql:'), secret: true },
  DATABASE_POOL_SIZE: { description: 'PostgreSQL connections per process', default: '10', parse: integer(1, 200) },
  REDIS_URL: {
    description: 'Redis URL (update de-duplication, rate limits, bans, sessions, leases, job schedules)',
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
  METRICS_PORT: {
    description: 'Port of the Prometheus /metrics endpoint of this node (0 turns it off)',
    default: '3030',
    parse: integer(0, 65535),
  },
});
export type CommonConfig = ConfigOf<typeof common.variables>;

export const TELEGRAM_BOT_TOKEN: Variable<string> = {
  description: 'Bot token from @BotFather',
  parse: botToken,
  secret: true,
};
export const TELEGRAM_API_ROOT: Variable<string> = {
  description: 'Bot API base URL',
  default: 'https://api.telegram.org',
  parse: url('http:', 'https:'),
};
export const USDT_DECIMALS: Variable<number> = {
  description: "USDT decimals (checked against the contract's decimals() at start-up)",
  default: '18',
  parse: integer(0, 36),
};
export const SYSTEM_WALLET_ADDRESS: Variable<string> = { description: 'Wallet that receives deposits', parse: address };
/** The admins: notifier sends them alerts, bot-gateway lets them use the admin commands. */
export const ADMIN_TELEGRAM_IDS: Variable<string[]> = {
  description: 'Telegram user ids of the admins, comma-separated: they receive alerts and may use the admin commands',
  default: '',
  parse: telegramIds,
};

/** The chain's access and finality, read by chain-monitor (deposits) and payout (withdrawals) alike. */
export const chainAccess = {
  BSC_RPC_URLS: {
    description: 'BSC JSON-RPC URLs, comma-separated, tried in order',
    parse: urlList('http:', 'https:'),
    secret: true,
  } as Variable<string[]>,
  BSC_CHAIN_ID: {
    description: 'Chain id the RPC must report (56 for BSC mainnet)',
    default: '56',
    parse: integer(1),
  } as Variable<number>,
  BSC_CONFIRMATION_BLOCKS: {
    description: 'Confirmations before a deposit is credited or a payout is final',
    default: '12',
    parse: integer(1, 10_000),
  } as Variable<number>,
  BSC_USE_FINALIZED: {
    description: "Wait for the chain's finalized tag instead of counting confirmations",
    default: 'false',
    parse: boolean,
  } as Variable<boolean>,
  USDT_CONTRACT: {
    description: 'USDT (BEP-20) contract address',
    default: '0x55d398326f99059fF775485246999027B3197955',
    parse: address,
  } as Variable<string>,
  USDT_DECIMALS,
};

// ---- Loading --------------------------------------------------------------------------------------------------

/** Reads and validates the given specs' variables; throws ConfigError naming each bad or missing one. */
export function loadVariables<V extends VariableSet>(
  specs: readonly ConfigSpec[],
  env: Record<string, string | undefined> = process.env,
): ConfigOf<V> {
  const problems: string[] = [];
  const config: Record<string, unknown> = {};
  const variables: VariableSet = Object.assign({}, ...specs.map((spec) => spec.variables));
  for (const [name, spec] of Object.entries(variables)) {
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
  if (problems.length === 0) {
    for (const spec of specs) problems.push(...(spec.crossCheck?.(config as never) ?? []));
  }
  if (problems.length > 0) throw new ConfigError([...new Set(problems)]);
  return config as ConfigOf<V>;
}

/** Set to true, `.env` is never read: the test suite sets it so a developer's `.env` cannot change a test. */
export const NO_DOTENV = 'SIGMATRADE_NO_DOTENV';

/** Loads `.env` (if present) into process.env without overriding what is already set, unless NO_DOTENV is true. */
export function loadDotEnv(path = '.env'): void {
  if (process.env[NO_DOTENV] === 'true') return;
  try {
    process.loadEnvFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
