import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../lib/config';
import { allVariables, loadFullConfig, loadServicesConfig, selectServices, type Config, type VariableName } from '.';

const loadConfig = loadFullConfig;
const variables = allVariables();

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** `.env.example` at the repository root; SIGMATRADE_ENV_EXAMPLE points the check at another copy. */
const ENV_EXAMPLE = process.env.SIGMATRADE_ENV_EXAMPLE ?? path.join(ROOT, '.env.example');

const WALLET = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';

/** Values for the variables that have no default. */
const REQUIRED_SAMPLES: Record<string, string> = {
  DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/sigmatrade?schema=public',
  TELEGRAM_BOT_TOKEN: '123456789:AAExampleExampleExampleExample_123',
  BSC_RPC_URLS: 'https://bsc-dataseed.bnbchain.org/, https://bsc-rpc.publicnode.com',
  BSC_START_BLOCK: '45000000',
  SYSTEM_WALLET_ADDRESS: WALLET.toLowerCase(),
};

const names = Object.keys(variables) as VariableName[];
const requiredNames = names.filter((name) => !('default' in variables[name]));

function validEnv(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return { ...REQUIRED_SAMPLES, ...overrides };
}

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(message).to.equal(problems.join('\n'));
    for (const problem of problems) expect(problem, 'one problem per line').to.not.include('\n');
    return problems;
  }
  return [];
}

describe('config', () => {
  describe('loadConfig', () => {
    it('has a sample for every required variable (update REQUIRED_SAMPLES when one is added)', () => {
      expect(Object.keys(REQUIRED_SAMPLES).sort()).to.deep.equal([...requiredNames].sort());
    });

    it('loads a complete valid environment with typed values', () => {
      const config: Config = loadConfig(
        validEnv({
          DATABASE_POOL_SIZE: ' 25 ',
          BSC_USE_FINALIZED: 'yes',
          REFERRAL_RATE_LEVEL_1: '0.07',
          REFERRAL_RATE_LEVEL_2: '0.02',
          USDT_CONTRACT: '0x55D398326F99059FF775485246999027B3197955',
          TELEGRAM_WEBHOOK_DOMAIN: 'https://bot.example.com/',
          TELEGRAM_WEBHOOK_SECRET: 'webhook_secret-1',
          NODE_ENV: 'test',
        }),
      );
      expect(config.DATABASE_URL).to.equal(REQUIRED_SAMPLES.DATABASE_URL);
      expect(config.DATABASE_POOL_SIZE).to.equal(25);
      expect(config.BSC_RPC_URLS).to.deep.equal([
        'https://bsc-dataseed.bnbchain.org',
        'https://bsc-rpc.publicnode.com',
      ]);
      expect(config.BSC_START_BLOCK).to.equal(45_000_000n);
      expect(config.BSC_USE_FINALIZED).to.equal(true);
      expect(config.SYSTEM_WALLET_ADDRESS).to.equal(WALLET);
      expect(config.USDT_CONTRACT).to.equal('0x55d398326f99059fF775485246999027B3197955');
      expect(config.REFERRAL_RATE_LEVEL_1).to.equal(7n * 10n ** 16n);
      expect(config.REFERRAL_RATE_LEVEL_2).to.equal(2n * 10n ** 16n);
      expect(config.TELEGRAM_WEBHOOK_DOMAIN).to.equal('https://bot.example.com');
      expect(config.TELEGRAM_WEBHOOK_SECRET).to.equal('webhook_secret-1');
      expect(config.NODE_ENV).to.equal('test');
    });

    it('fills in every default and parses each one', () => {
      const config = loadConfig(validEnv()) as Record<string, unknown>;
      for (const name of names) expect(config, name).to.have.property(name);
      expect(config.NODE_ENV).to.equal('production');
      expect(config.USDT_CONTRACT).to.equal('0x55d398326f99059fF775485246999027B3197955');
      expect(config.USDT_DECIMALS).to.equal(18);
      expect(config.BSC_CHAIN_ID).to.equal(56);
      expect(config.BSC_USE_FINALIZED).to.equal(false);
      expect(config.REFERRAL_ENABLED).to.equal(true);
      expect(config.REFERRAL_RATE_LEVEL_1).to.equal(5n * 10n ** 16n);
      expect(config.REFERRAL_RATE_LEVEL_2).to.equal(4n * 10n ** 16n);
      expect(config.REFERRAL_RATE_LEVEL_3).to.equal(3n * 10n ** 16n);
      expect(config.TELEGRAM_WEBHOOK_DOMAIN).to.equal(undefined);
      expect(config.TELEGRAM_WEBHOOK_SECRET).to.equal(undefined);
      expect(config.HTTP_PORT).to.equal(3000);
    });

    it('names every missing required variable on its own line', () => {
      const problems = problemsOf({});
      expect(problems).to.have.length(requiredNames.length);
      for (const name of requiredNames) {
        expect(
          problems.filter((line) => line.startsWith(`${name} is required: `)),
          name,
        ).to.have.length(1);
      }
    });

    it('treats an empty or blank required variable as missing', () => {
      expect(problemsOf(validEnv({ DATABASE_URL: '', BSC_START_BLOCK: '   ' }))).to.deep.equal([
        `DATABASE_URL is required: ${variables.DATABASE_URL.description}`,
        `BSC_START_BLOCK is required: ${variables.BSC_START_BLOCK.description}`,
      ]);
    });

    const malformed: [string, Record<string, string>, VariableName][] = [
      ['a string that is not a URL', { DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
      ['a URL with the wrong protocol', { DATABASE_URL: 'mysql://127.0.0.1/sigmatrade' }, 'DATABASE_URL'],
      [
        'an RPC list with one bad URL',
        { BSC_RPC_URLS: 'https://bsc-dataseed.bnbchain.org,ftp://example.com' },
        'BSC_RPC_URLS',
      ],
      ['an RPC list with no URL', { BSC_RPC_URLS: ' , ,' }, 'BSC_RPC_URLS'],
      ['a short address', { SYSTEM_WALLET_ADDRESS: '0x1234' }, 'SYSTEM_WALLET_ADDRESS'],
      [
        'an address with a wrong checksum',
        { SYSTEM_WALLET_ADDRESS: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD' },
        'SYSTEM_WALLET_ADDRESS',
      ],
      ['the zero address', { USDT_CONTRACT: '0x0000000000000000000000000000000000000000' }, 'USDT_CONTRACT'],
      ['a fractional integer', { HTTP_PORT: '80.5' }, 'HTTP_PORT'],
      ['a non-numeric integer', { DATABASE_POOL_SIZE: 'ten' }, 'DATABASE_POOL_SIZE'],
      ['an integer out of range', { HTTP_PORT: '70000' }, 'HTTP_PORT'],
      ['a referral depth out of range', { MAX_REFERRAL_DEPTH: '4' }, 'MAX_REFERRAL_DEPTH'],
      ['a negative block number', { BSC_START_BLOCK: '-1' }, 'BSC_START_BLOCK'],
      ['a rate with 20 decimals', { REFERRAL_RATE_LEVEL_1: '0.05000000000000000001' }, 'REFERRAL_RATE_LEVEL_1'],
      ['a rate above 1', { REFERRAL_RATE_LEVEL_2: '1.5' }, 'REFERRAL_RATE_LEVEL_2'],
      ['a bad boolean', { REFERRAL_ENABLED: 'maybe' }, 'REFERRAL_ENABLED'],
      ['an unknown NODE_ENV', { NODE_ENV: 'staging' }, 'NODE_ENV'],
      ['a garbage deposit level', { DEPOSIT_LEVEL_1: '10 USDT' }, 'DEPOSIT_LEVEL_1'],
      ['a bot token of the wrong shape', { TELEGRAM_BOT_TOKEN: 'token' }, 'TELEGRAM_BOT_TOKEN'],
      [
        'a webhook secret with forbidden characters',
        { TELEGRAM_WEBHOOK_SECRET: 'no spaces allowed' },
        'TELEGRAM_WEBHOOK_SECRET',
      ],
      ['DEPOSIT_LEVEL_3 equal to DEPOSIT_LEVEL_2', { DEPOSIT_LEVEL_2: '50', DEPOSIT_LEVEL_3: '50' }, 'DEPOSIT_LEVEL_3'],
      ['DEPOSIT_LEVEL_3 below DEPOSIT_LEVEL_2', { DEPOSIT_LEVEL_2: '50', DEPOSIT_LEVEL_3: '49.99' }, 'DEPOSIT_LEVEL_3'],
      [
        'a webhook domain without a secret',
        { TELEGRAM_WEBHOOK_DOMAIN: 'https://bot.example.com' },
        'TELEGRAM_WEBHOOK_SECRET',
      ],
    ];
    for (const [what, overrides, name] of malformed) {
      it(`refuses ${what} with one line naming ${name}`, () => {
        const problems = problemsOf(validEnv(overrides));
        expect(problems, JSON.stringify(problems)).to.have.length(1);
        expect(problems[0]).to.match(new RegExp(`^${name}\\b`));
      });
    }

    it('words the cross-checks precisely', () => {
      expect(problemsOf(validEnv({ DEPOSIT_LEVEL_2: '50', DEPOSIT_LEVEL_3: '50' }))).to.deep.equal([
        'DEPOSIT_LEVEL_3 must be larger than DEPOSIT_LEVEL_2',
      ]);
      expect(problemsOf(validEnv({ TELEGRAM_WEBHOOK_DOMAIN: 'https://bot.example.com' }))[0]).to.include(
        'TELEGRAM_WEBHOOK_DOMAIN',
      );
    });

    it('reports several bad variables at once, one line each', () => {
      const problems = problemsOf(
        validEnv({
          DATABASE_URL: 'nope',
          HTTP_PORT: 'x',
          SYSTEM_WALLET_ADDRESS: '0x12',
          TELEGRAM_BOT_TOKEN: undefined,
        }),
      );
      expect(problems.map((line) => line.split(' ')[0]).sort()).to.deep.equal(
        ['DATABASE_URL', 'HTTP_PORT', 'SYSTEM_WALLET_ADDRESS', 'TELEGRAM_BOT_TOKEN'].sort(),
      );
    });
  });

  describe('per service', () => {
    const only = (groups: string) => selectServices(groups).services;

    it('needs no bot token, RPC URL or system wallet in a ledger-only process', () => {
      const config = loadServicesConfig(only('ledger'), { DATABASE_URL: REQUIRED_SAMPLES.DATABASE_URL });
      expect(config).to.include({ DATABASE_URL: REQUIRED_SAMPLES.DATABASE_URL });
      expect(config).to.have.property('DEPOSIT_LEVEL_1', '10');
      expect(config).not.to.have.property('TELEGRAM_BOT_TOKEN');
      expect(config).not.to.have.property('BSC_RPC_URLS');
    });

    it('names only the variables the selected services need', () => {
      const problemsFor = (groups: string) => {
        try {
          loadServicesConfig(only(groups), {});
          return [];
        } catch (error) {
          return (error as ConfigError).problems.map((line) => line.split(' ')[0]).sort();
        }
      };
      expect(problemsFor('ledger')).to.deep.equal(['DATABASE_URL']);
      expect(problemsFor('notifier')).to.deep.equal(['DATABASE_URL', 'TELEGRAM_BOT_TOKEN']);
      expect(problemsFor('chain-monitor')).to.deep.equal(
        ['BSC_RPC_URLS', 'BSC_START_BLOCK', 'DATABASE_URL', 'SYSTEM_WALLET_ADDRESS'].sort(),
      );
      expect(problemsFor('users,gateway')).to.deep.equal(['DATABASE_URL', 'SYSTEM_WALLET_ADDRESS']);
    });

    it("still checks a selected service's rules across its variables", () => {
      expect(() =>
        loadServicesConfig(only('ledger'), {
          DATABASE_URL: REQUIRED_SAMPLES.DATABASE_URL,
          DEPOSIT_LEVEL_2: '50',
          DEPOSIT_LEVEL_3: '50',
        }),
      ).to.throw(ConfigError, 'DEPOSIT_LEVEL_3 must be larger than DEPOSIT_LEVEL_2');
    });
  });

  describe('.env.example', () => {
    /** `KEY=value`, `# KEY=value` (documented but commented out) and `export KEY=value` lines. */
    function documentedKeys(text: string): string[] {
      const keys: string[] = [];
      for (const line of text.split(/\r?\n/)) {
        const match = /^\s*#?\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=/.exec(line);
        if (match) keys.push(match[1]!);
      }
      return keys;
    }

    it('documents every variable of every service once, and nothing else', function () {
      if (!existsSync(ENV_EXAMPLE)) {
        expect.fail(`${ENV_EXAMPLE} is missing: it must document every variable of every service`);
      }
      const keys = documentedKeys(readFileSync(ENV_EXAMPLE, 'utf8'));
      const duplicates = keys.filter((key, index) => keys.indexOf(key) !== index);
      const missing = names.filter((name) => !keys.includes(name));
      const unknown = keys.filter((key) => !(names as string[]).includes(key));
      expect({ missing, unknown, duplicates }, `${ENV_EXAMPLE} and the services' variables disagree`).to.deep.equal({
        missing: [],
        unknown: [],
        duplicates: [],
      });
    });

    it('reads KEY= lines, commented or not, and ignores prose', () => {
      expect(
        documentedKeys(
          [
            '# SigmaTrade configuration. Set DATABASE_URL first.',
            'DATABASE_URL=postgresql://postgres@127.0.0.1:5432/sigmatrade',
            '# NODE_ENV=production',
            '#LOG_LEVEL=info',
            '  export HTTP_PORT=3000',
            '',
            'lower_case=ignored',
          ].join('\n'),
        ),
      ).to.deep.equal(['DATABASE_URL', 'NODE_ENV', 'LOG_LEVEL', 'HTTP_PORT']);
    });
  });
});
