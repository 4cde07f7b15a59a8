// `npm start` (scripts/start.ts) as its own OS process with a controlled environment: configuration problems are
// reported one per line without secrets and stop it, a valid configuration starts the named services, and
// SIGTERM shuts it down gracefully.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Wallet } from 'ethers';
import { loadFullConfig, SERVICE_GROUPS } from '../../services';
import { TEST_SYSTEM_WALLET, testEnv } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { deleteNamespaceStreams } from '../support/nats';
import { NO_DOTENV_ENV } from '../support/no-dotenv';
import { spawnNode } from '../support/node-process';
import { TelegramEmulator } from '../support/telegram-emulator';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const REQUIRED = ['DATABASE_URL', 'TELEGRAM_BOT_TOKEN', 'BSC_RPC_URLS', 'BSC_START_BLOCK', 'SYSTEM_WALLET_ADDRESS'];

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Started {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exit: Promise<Exit>;
}

const children: ChildProcess[] = [];

/** scripts/start.ts with only PATH and HOME from this process, plus `env`; migrations skipped. */
function start(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? ROOT,
      SKIP_MIGRATIONS: 'true',
      ...NO_DOTENV_ENV,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exit = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs start.ts to its end (it must end by itself within `ms`). */
async function runToExit(env: Record<string, string>, ms = 20_000) {
  const run = start(env);
  const exit = await within(run.exit, ms, `exit of start.ts (stderr: ${run.stderr()})`);
  return { ...exit, stdout: run.stdout(), stderr: run.stderr(), configLines: configLines(run.stderr()) };
}

const configLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('config: '));

/** Everything a node needs, none of it reachable or used before the configuration is refused. */
const completeEnv = (overrides: Record<string, string> = {}) =>
  testEnv({ LOG_LEVEL: 'info', NAMESPACE: `startup-${randomBytes(4).toString('hex')}`, ...overrides });

describe('scripts/start.ts', function () {
  this.timeout(60_000);

  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
    }
  });

  it('exits non-zero with one "config: " line per missing required variable', async () => {
    const result = await runToExit({});
    expect(result.code).to.equal(1);
    expect(result.configLines, result.stderr).to.have.length(REQUIRED.length);
    for (const name of REQUIRED) {
      const lines = result.configLines.filter((line) => line.startsWith(`config: ${name} `));
      expect(lines, `${name} in:\n${result.stderr}`).to.have.length(1);
      expect(lines[0]).to.contain('is required');
    }
    expect(result.stdout).not.to.contain('SigmaTrade node started');
  });

  it('exits non-zero naming SYSTEM_WALLET_ADDRESS when its EIP-55 checksum is wrong', async () => {
    const badChecksum = TEST_SYSTEM_WALLET.slice(0, -1) + TEST_SYSTEM_WALLET.slice(-1).toUpperCase();
    expect(badChecksum).not.to.equal(TEST_SYSTEM_WALLET);
    const result = await runToExit(completeEnv({ SYSTEM_WALLET_ADDRESS: badChecksum }));
    expect(result.code).to.equal(1);
    expect(result.configLines, result.stderr).to.have.length(1);
    expect(result.configLines[0]).to.match(/^config: SYSTEM_WALLET_ADDRESS .*checksum/);
  });

  it('never prints a secret from a malformed DATABASE_URL', async () => {
    const result = await runToExit(completeEnv({ DATABASE_URL: 'postgresql//admin:S3cretPw@db/x' }));
    expect(result.code).to.equal(1);
    expect(result.configLines, result.stderr).to.have.length(1);
    expect(result.configLines[0]).to.match(/^config: DATABASE_URL /);
    expect(result.stderr + result.stdout).not.to.contain('S3cretPw');
  });

  it('never prints a secret from a malformed element of BSC_RPC_URLS', async () => {
    const result = await runToExit(
      completeEnv({ BSC_RPC_URLS: 'https://bsc-dataseed.bnbchain.org,htps//bsc.nodereal.io/v1/S3cretApiKey' }),
    );
    expect(result.code).to.equal(1);
    expect(result.configLines[0]).to.match(/^config: BSC_RPC_URLS /);
    expect(result.stderr + result.stdout).not.to.contain('S3cretApiKey');
  });

  it('refuses DRY_RUN=false without a usable hot-wallet key in one line each, quoting no key', async () => {
    const missing = await runToExit(completeEnv({ SERVICES: 'payout', DRY_RUN: 'false' }));
    expect(missing.code).to.equal(1);
    expect(missing.configLines, missing.stderr).to.deep.equal([
      'config: PAYOUT_WALLET_ADDRESS is required when DRY_RUN=false',
      'config: DRY_RUN=false needs exactly one of PAYOUT_WALLET_PRIVATE_KEY and PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED',
    ]);
    const wrong = await runToExit(
      completeEnv({
        SERVICES: 'payout',
        DRY_RUN: 'false',
        PAYOUT_WALLET_ADDRESS: TEST_SYSTEM_WALLET,
        PAYOUT_WALLET_PRIVATE_KEY: `0x${'ab'.repeat(32)}`,
      }),
    );
    expect(wrong.code).to.equal(1);
    expect(wrong.configLines, wrong.stderr).to.have.length(1);
    expect(wrong.configLines[0]).to.match(/^config: PAYOUT_WALLET_ADDRESS does not match the private key/);
    expect(wrong.stderr + wrong.stdout).not.to.contain('abababab');
    expect(wrong.stderr).not.to.match(/^\s+at /m);
  });

  it('seals a hot-wallet key with scripts/encrypt-key.ts that start-up then opens', async () => {
    const hot = Wallet.createRandom();
    const encryptionKey = randomBytes(32).toString('hex');
    const sealedOutput = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/encrypt-key.ts'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: process.env.HOME ?? ROOT,
          ...NO_DOTENV_ENV,
          ENCRYPTION_KEY: encryptionKey,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(`${hot.privateKey}\n`);
    });
    expect(sealedOutput.code, sealedOutput.stderr).to.equal(0);
    expect(sealedOutput.stdout).not.to.contain(hot.privateKey.slice(2));
    const sealed = /^PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED=(v1:\S+)$/m.exec(sealedOutput.stdout)?.[1];
    expect(sealedOutput.stdout).to.contain(`PAYOUT_WALLET_ADDRESS=${hot.address}`);
    expect(sealed).to.be.a('string');
    // A wrong ENCRYPTION_KEY is one line naming the variable; the right one passes the configuration checks.
    const wrong = await runToExit(
      completeEnv({
        SERVICES: 'payout',
        DRY_RUN: 'false',
        PAYOUT_WALLET_ADDRESS: hot.address,
        PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED: sealed!,
        ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      }),
    );
    expect(wrong.configLines, wrong.stderr).to.deep.equal([
      'config: PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED does not open with ENCRYPTION_KEY (another key, or altered)',
    ]);
    expect(
      loadFullConfig(
        testEnv({
          DRY_RUN: 'false',
          PAYOUT_WALLET_ADDRESS: hot.address,
          PAYOUT_WALLET_PRIVATE_KEY_ENCRYPTED: sealed!,
          ENCRYPTION_KEY: encryptionKey,
        }),
      ).DRY_RUN,
    ).to.equal(false);
  });

  it('exits non-zero naming an unknown service in SERVICES and listing the known ones', async () => {
    const result = await runToExit(completeEnv({ SERVICES: 'ledger,nosuch' }));
    expect(result.code).to.equal(1);
    expect(result.configLines, result.stderr).to.have.length(1);
    const [line] = result.configLines;
    expect(line).to.match(/^config: SERVICES .*\bnosuch\b/);
    const known = /known: (.*)$/.exec(line!)?.[1]?.split(', ');
    expect(known).to.have.members(Object.keys(SERVICE_GROUPS));
    expect(result.stdout).not.to.contain('SigmaTrade node started');
  });

  describe('against a database it cannot use', () => {
    /** start.ts with migrations on; it must end by itself with one line on stderr. */
    async function failingStart(databaseUrl: string) {
      const run = spawnNode(completeEnv({ DATABASE_URL: databaseUrl }), { skipMigrations: false });
      const exit = await within(run.exit, 30_000, `exit of start.ts (stderr: ${run.stderr()})`);
      const lines = run
        .stderr()
        .split('\n')
        .filter((line) => line.trim() !== '');
      return { exit, lines, output: run.stdout() + run.stderr() };
    }

    it('names DATABASE_URL in one line, without its password, when the database does not exist', async () => {
      const name = `sigmatrade_missing_${randomBytes(3).toString('hex')}`;
      const { exit, lines, output } = await failingStart(`postgresql://postgres:S3cretPw@127.0.0.1:5432/${name}`);
      expect(exit.code).to.equal(1);
      expect(lines, output).to.have.length(1);
      expect(lines[0]).to.match(
        /^start: DATABASE_URL \(postgresql:\/\/postgres@127\.0\.0\.1:5432\/sigmatrade_missing_\w+\): database "sigmatrade_missing_\w+" does not exist; create it \(npm run db:migrate creates and migrates it, or createdb /,
      );
      expect(output).not.to.contain('S3cretPw');
      expect(output).not.to.match(/\n\s+at /);
    });

    it('names DATABASE_URL in one line when nothing listens at its host and port', async () => {
      const { exit, lines, output } = await failingStart('postgresql://postgres:S3cretPw@127.0.0.1:1/sigmatrade');
      expect(exit.code).to.equal(1);
      expect(lines, output).to.have.length(1);
      expect(lines[0]).to.match(
        /^start: DATABASE_URL \(postgresql:\/\/postgres@127\.0\.0\.1:1\/sigmatrade\): nothing accepts connections at 127\.0\.0\.1:1/,
      );
      expect(output).not.to.contain('S3cretPw');
    });
  });

  describe('with a complete configuration', () => {
    let db: TestDatabase;
    let emulator: TelegramEmulator;
    let namespace: string;

    before(async () => {
      db = await createTestDatabase('startup');
      emulator = new TelegramEmulator();
      await emulator.start();
      namespace = `startup-${randomBytes(4).toString('hex')}`;
    });
    after(async () => {
      await emulator?.stop();
      await db?.drop();
      if (namespace) await deleteNamespaceStreams(namespace);
    });

    /** start.ts with ledger and bot-gateway against the emulator; resolves once it logged that it started. */
    async function startComplete() {
      const run = start(
        completeEnv({
          DATABASE_URL: db.url,
          NAMESPACE: namespace,
          NODE_ID: `${namespace}-node-${children.length}`,
          METRICS_PORT: '0',
          HTTP_PORT: '0',
          HTTP_HOST: '127.0.0.1',
          SERVICES: 'users,ledger,bot-gateway',
          TELEGRAM_API_ROOT: emulator.apiRoot,
          TELEGRAM_BOT_TOKEN: emulator.token,
        }),
      );
      const jsonLines = () =>
        run
          .stdout()
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      const startedLine = await within(
        (async () => {
          for (;;) {
            const line = jsonLines().find((l) => l['msg'] === 'SigmaTrade node started');
            if (line) return line;
            if (run.child.exitCode !== null) throw new Error(`start.ts exited early:\n${run.stderr()}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        })(),
        30_000,
        `the start-up log line (stderr: ${run.stderr()})`,
      );
      return { ...run, jsonLines, startedLine };
    }

    /** Sends SIGTERM and resolves with how it exited, failing after 25 s. */
    async function terminate(run: Started) {
      const stoppingAt = Date.now();
      run.child.kill('SIGTERM');
      const exit = await within(run.exit, 25_000, 'graceful shutdown after SIGTERM');
      return { ...exit, tookMs: Date.now() - stoppingAt };
    }

    it('starts the named services, serves the bot, and exits 0 on SIGTERM within 25 s', async () => {
      const run = await startComplete();
      expect(run.startedLine).to.include({ level: 'info', service: 'runner' });
      expect(run.startedLine['services']).to.deep.equal(['users', 'ledger', 'bot-gateway']);
      // stdout carries nothing but JSON log lines.
      expect(
        run
          .stdout()
          .split('\n')
          .filter((line) => line !== '' && !line.startsWith('{')),
      ).to.deep.equal([]);

      // It really serves: the bot (long polling the emulator) answers /start through the users service.
      const user = emulator.user({ first_name: 'Startup', language_code: 'en' });
      user.sendText('/start');
      await user.waitForMessage(/Welcome to/, 15_000);

      const exit = await terminate(run);
      expect({ code: exit.code, signal: exit.signal }, run.stderr()).to.deep.equal({ code: 0, signal: null });
      expect(exit.tookMs).to.be.below(25_000);
      expect(run.jsonLines().some((l) => l['msg'] === 'shutting down' && l['signal'] === 'SIGTERM')).to.equal(true);
    });

    it('stops each service once and logs no error on SIGTERM', async () => {
      const run = await startComplete();
      const exit = await terminate(run);
      expect(exit.code).to.equal(0);
      const lines = run.jsonLines();
      expect(lines.filter((l) => l['level'] === 'error' || l['level'] === 'fatal')).to.deep.equal([]);
      for (const service of ['users', 'ledger', 'bot-gateway']) {
        expect(lines.filter((l) => l['msg'] === `Service '${service}' stopped.`)).to.have.length(1);
      }
    });
  });
});
