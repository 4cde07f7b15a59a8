import {
  address,
  chainAccess,
  defineConfig,
  integer,
  optional,
  text,
  tokenAmount,
  type CommonConfig,
  type ConfigOf,
  type Parser,
} from '../../lib/config';
import { parseAmount } from '../../lib/money';
import { encryptionKey, openPrivateKey, walletFromKey } from './hot-wallet-key';

/** Only an explicit "false" turns DRY_RUN off: a typo keeps money where it is. */
const dryRun: Parser<boolean> = (raw) => {
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new Error(`must be true or false, got "${raw}"`);
};

const gwei: Parser<bigint> = (raw) => parseAmount(raw, 9);

export const payoutConfig = defineConfig(
  {
    ...chainAccess,
    DRY_RUN: {
      description: 'Simulate every payout: nothing is signed or sent (on unless set to false)',
      default: 'true',
      parse: dryRun,
    },
    PAYOUT_WALLET_ADDRESS: {
      description: 'Hot wallet that sends withdrawals (required when DRY_RUN=false)',
      default: '',
      parse: optional(address),
    },
    PAYOUT_WALLET_PRIVATE_KEY: {
      description: "Hot wallet's private key (or give it sealed in PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED)",
      default: '',
      parse: optional(text),
      secret: true,
    },
    PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED: {
      description: "Hot wallet's private key sealed with ENCRYPTION_KEY (npm run encrypt-key)",
      default: '',
      parse: optional(text),
      secret: true,
    },
    ENCRYPTION_KEY: {
      description: '32-byte key (64 hex digits or base64) that opens PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED',
      default: '',
      parse: optional(encryptionKey),
      secret: true,
    },
    PAYOUT_GAS_LIMIT: { description: 'Gas limit of a token transfer', default: '100000', parse: integer(21_000) },
    PAYOUT_MIN_GAS_PRICE_GWEI: {
      description: "Lowest gas price offered, in gwei (BSC validators' minimum)",
      default: '0.1',
      parse: gwei,
    },
    PAYOUT_MAX_GAS_PRICE_GWEI: {
      description: 'Highest gas price a payout or its replacement may offer, in gwei',
      default: '20',
      parse: gwei,
    },
    PAYOUT_STUCK_BLOCKS: {
      description: 'Blocks without a receipt before a payout is replaced with 12.5% more gas price',
      default: '20',
      parse: integer(1, 10_000),
    },
    PAYOUT_MAX_ATTEMPTS: {
      description: 'Failed tries of a payout before it is dead and waits for an admin',
      default: '5',
      parse: integer(1, 100),
    },
    PAYOUT_RETRY_BASE_SECONDS: {
      description: 'Delay before the first retry of a failed payout; doubles with each retry, with jitter',
      default: '60',
      parse: integer(1, 86_400),
    },
    PAYMENT_RETRY_INTERVAL_MS: {
      description: 'How often the payment-retry job sends due retries',
      default: '300000',
      parse: integer(1_000),
    },
    PAYOUT_POLL_INTERVAL_MS: {
      description: 'How often the payout writer signs, broadcasts and checks receipts',
      default: '1000',
      parse: integer(50, 600_000),
    },
    PAYOUT_LEASE_SECONDS: {
      description: 'How long the writer of the hot wallet holds it without renewing (take-over time)',
      default: '15',
      parse: integer(2, 600),
    },
    PAYOUT_LOW_USDT: {
      description: 'Admins are told when the hot wallet holds less USDT than this',
      default: '1000',
      parse: tokenAmount,
    },
    PAYOUT_LOW_BNB: {
      description: 'Admins are told when the hot wallet holds less BNB (gas) than this',
      default: '0.05',
      parse: tokenAmount,
    },
  },
  (config) => {
    if (config.DRY_RUN) return [];
    const problems: string[] = [];
    if (!config.PAYOUT_WALLET_ADDRESS) problems.push('PAYOUT_WALLET_ADDRESS is required when DRY_RUN=false');
    const plain = config.PAYOUT_WALLET_PRIVATE_KEY;
    const sealed = config.PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED;
    if (!plain === !sealed) {
      problems.push(
        'DRY_RUN=false needs exactly one of PAYOUT_WALLET_PRIVATE_KEY and PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED',
      );
      return problems;
    }
    try {
      const key = hotWalletKey(config);
      const derived = walletFromKey(key).address;
      if (config.PAYOUT_WALLET_ADDRESS && derived !== config.PAYOUT_WALLET_ADDRESS)
        problems.push(`PAYOUT_WALLET_ADDRESS does not match the private key, whose address is ${derived}`);
    } catch (error) {
      problems.push((error as Error).message);
    }
    if (config.PAYOUT_MAX_GAS_PRICE_GWEI < config.PAYOUT_MIN_GAS_PRICE_GWEI)
      problems.push('PAYOUT_MAX_GAS_PRICE_GWEI must be at least PAYOUT_MIN_GAS_PRICE_GWEI');
    return problems;
  },
);
export type PayoutConfig = CommonConfig & ConfigOf<typeof payoutConfig.variables>;

/** The plain private key from either variable; errors name the variable, never the key. */
export function hotWalletKey(config: {
  PAYOUT_WALLET_PRIVATE_KEY: string | undefined;
  PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED: string | undefined;
  ENCRYPTION_KEY: Buffer | undefined;
}): string {
  if (config.PAYOUT_WALLET_PRIVATE_KEY) {
    try {
      walletFromKey(config.PAYOUT_WALLET_PRIVATE_KEY);
    } catch (error) {
      throw new Error(`PAYOUT_WALLET_PRIVATE_KEY ${(error as Error).message}`);
    }
    return config.PAYOUT_WALLET_PRIVATE_KEY;
  }
  if (!config.ENCRYPTION_KEY) throw new Error('ENCRYPTION_KEY is required to open PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED');
  try {
    const key = openPrivateKey(config.PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED ?? '', config.ENCRYPTION_KEY);
    walletFromKey(key);
    return key;
  } catch (error) {
    throw new Error(`PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED ${(error as Error).message}`);
  }
}
