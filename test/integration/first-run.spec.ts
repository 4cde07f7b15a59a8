// What a first run of `npm start` can get wrong, each ended by one line naming what to fix and no stack trace
// (docs/first-run.md): the Telegram token refused, Telegram unreachable (the process stays up, not ready, and
// serves once Telegram answers), USDT_CONTRACT not a token on the chain, the RPC on another chain, a busy port;
// and a `.env` in the working directory, which npm start reads and the test suite never does.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startAnvil, type AnvilHandle } from '../support/anvil';
import { testEnv } from '../support/config';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { deleteNamespaceStreams } from '../support/nats';
import { exitWithin, killAllNodes, spawnNode, type NodeProcess } from '../support/node-process';
import { freePort, occupyPort } from '../support/ports';
import { TelegramEmulator } from '../support/telegram-emulator';
import { deployTestUsdt } from '../support/usdt';

const STACK_LINE = /^\s+at \S/m;

/** The non-blank lines a process printed to stderr. */
const stderrLines = (run: NodeProcess) =>
  run
    .stderr()
    .split('\n')
    .filter((line) => line.trim() !== '');

const portOf = (server: Server) => (server.address() as { port: number }).port;

describe('first-run failures of npm start, one line each', function () {
  this.timeout(90_000);
  let db: TestDatabase;
  const namespaces: string[] = [];

  before(async () => {
    db = await createTestDatabase('firstrun');
  });
  after(async () => {
    await killAllNodes();
    await db?.drop();
    for (const namespace of namespaces) await deleteNamespaceStreams(namespace);
  });
  afterEach(killAllNodes);

  /** A complete environment against the test schema, logging at `info` as a first run does. */
  const envFor = (overrides: Record<string, string>) => {
    const env = testEnv({ LOG_LEVEL: 'info', DATABASE_URL: db.url, ...overrides });
    namespaces.push(env.NAMESPACE!);
    return env;
  };

  /** Runs start.ts to its end: exit code 1, exactly one line on stderr (returned), no stack trace anywhere. */
  async function failsWithOneLine(env: Record<string, string>): Promise<string> {
    const run = spawnNode(env);
    const exit = await exitWithin(run, 45_000);
    const output = run.stderr() + run.stdout();
    expect(exit.code, output).to.equal(1);
    expect(stderrLines(run), output).to.have.length(1);
    expect(output).not.to.match(STACK_LINE);
    expect(run.stdout()).not.to.contain('SigmaTrade node started');
    // Nor a log line of its own at error level: the one line is the report.
    expect(run.logLines().filter((l) => l['level'] === 'error' || l['level'] === 'fatal')).to.deep.equal([]);
    return stderrLines(run)[0]!;
  }

  describe('Telegram', () => {
    let emulator: TelegramEmulator;
    before(async () => {
      emulator = new TelegramEmulator();
      await emulator.start();
    });
    after(() => emulator?.stop());

    it('names TELEGRAM_BOT_TOKEN when Telegram refuses the token (401 from getMe)', async () => {
      const line = await failsWithOneLine(
        envFor({
          SERVICES: 'bot-gateway',
          TELEGRAM_API_ROOT: emulator.apiRoot,
          TELEGRAM_BOT_TOKEN: '987654321:not-the-emulators-token-abcdefghij',
        }),
      );
      expect(line).to.match(
        /^start: TELEGRAM_BOT_TOKEN: Telegram \(http:\/\/127\.0\.0\.1:\d+\) refused the token \(401 Unauthorized\); set TELEGRAM_BOT_TOKEN/,
      );
      expect(line).not.to.contain('not-the-emulators-token');
    });

    it('names TELEGRAM_API_ROOT when Telegram is unreachable, stays up not ready, and serves once it answers', async () => {
      const port = await freePort();
      const apiRoot = `http://127.0.0.1:${port}`;
      const late = new TelegramEmulator();
      const httpPort = await freePort();
      const ready = async () => {
        const response = await fetch(`http://127.0.0.1:${httpPort}/health/ready`);
        return { status: response.status, body: (await response.json()) as { waiting?: Record<string, string> } };
      };
      const run = spawnNode(
        envFor({
          SERVICES: 'bot-gateway,gateway',
          TELEGRAM_API_ROOT: apiRoot,
          TELEGRAM_BOT_TOKEN: late.token,
          HTTP_PORT: String(httpPort),
        }),
      );
      try {
        await run.started();
        await run.printed(/TELEGRAM_API_ROOT \(http:\/\/127\.0\.0\.1:\d+\): the Telegram Bot API is unreachable/);
        const warnings = run.logLines().filter((l) => String(l['msg']).startsWith('TELEGRAM_API_ROOT'));
        expect(warnings, run.stdout()).to.have.length(1);
        expect(warnings[0]!['msg']).to.match(/unreachable \(ECONNREFUSED\); the bot retries and serves nothing/);
        expect(run.alive).to.equal(true);
        expect(run.stderr()).to.equal('');
        // Not ready while it waits for Telegram.
        const waiting = await ready();
        expect(waiting.status).to.equal(503);
        expect(waiting.body.waiting?.['telegram']).to.equal(`the Telegram Bot API at ${apiRoot} is unreachable`);
        // Telegram comes: the bot answers /start without a restart.
        await late.start({ port });
        const user = late.user({ first_name: 'Late', language_code: 'en' });
        user.sendText('/start');
        await user.waitForMessage(/Welcome/, 40_000);
        expect((await ready()).status).to.equal(200);
        expect(run.stdout() + run.stderr()).not.to.match(STACK_LINE);
        expect((await run.kill('SIGTERM')).code).to.equal(0);
      } finally {
        await run.kill();
        await late.stop();
      }
    });
  });

  describe('the chain', () => {
    let anvil: AnvilHandle;
    let usdt: string;
    before(async () => {
      anvil = await startAnvil();
      usdt = (await deployTestUsdt(anvil.wallet(0))).address;
    });
    after(() => anvil?.stop());

    const chainEnv = (overrides: Record<string, string>) =>
      envFor({
        SERVICES: 'users,chain-monitor',
        BSC_RPC_URLS: anvil.rpcUrl,
        BSC_CHAIN_ID: String(anvil.chainId),
        USDT_CONTRACT: usdt,
        ...overrides,
      });

    it('names BSC_CHAIN_ID when the RPC serves another chain', async () => {
      const line = await failsWithOneLine(chainEnv({ BSC_CHAIN_ID: '97' }));
      expect(line).to.equal(
        'start: BSC_CHAIN_ID: the RPC (BSC_RPC_URLS) serves chain id 56, not 97; set BSC_CHAIN_ID=56 or point BSC_RPC_URLS at chain 97',
      );
    });

    it('names BSC_CHAIN_ID in payout too, when it is to send for real (DRY_RUN=false)', async () => {
      const hot = anvil.accounts[5]!;
      const line = await failsWithOneLine(
        chainEnv({
          SERVICES: 'payout',
          BSC_CHAIN_ID: '97',
          DRY_RUN: 'false',
          PAYOUT_WALLET_ADDRESS: hot.address,
          PAYOUT_WALLET_PRIVATE_KEY: hot.privateKey,
        }),
      );
      expect(line).to.equal(
        'start: BSC_CHAIN_ID: the RPC (BSC_RPC_URLS) serves chain id 56, not 97; set BSC_CHAIN_ID=56 or point BSC_RPC_URLS at chain 97',
      );
      expect(line).not.to.contain(hot.privateKey.slice(2));
    });

    it('names USDT_CONTRACT when there is no contract at its address', async () => {
      const nobody = anvil.accounts[3]!.address;
      const line = await failsWithOneLine(chainEnv({ USDT_CONTRACT: nobody }));
      expect(line).to.equal(
        `start: USDT_CONTRACT: there is no contract at ${nobody} on chain 56; set USDT_CONTRACT to the token's address on this chain`,
      );
    });

    it('names USDT_CONTRACT when the contract there answers no decimals()', async () => {
      // A contract that reverts whatever it is asked (PUSH1 0 PUSH1 0 REVERT): code, but no token.
      const address = '0x00000000000000000000000000000000000f1a57';
      await anvil.send('anvil_setCode', [address, '0x60006000fd']);
      const line = await failsWithOneLine(chainEnv({ USDT_CONTRACT: address }));
      expect(line).to.match(
        /^start: USDT_CONTRACT: the contract at 0x0+F1a57 on chain 56 answers no decimals\(\), so it is not a BEP-20 token; set USDT_CONTRACT/i,
      );
    });
  });

  describe('ports', () => {
    let taken: Server;
    before(async () => {
      taken = await occupyPort();
    });
    after(() => new Promise((resolve) => taken.close(resolve)));

    it('names HTTP_PORT when the gateway port is in use', async () => {
      const port = portOf(taken);
      const line = await failsWithOneLine(envFor({ SERVICES: 'gateway', HTTP_PORT: String(port) }));
      expect(line).to.equal(`start: HTTP_PORT: port ${port} is in use; set HTTP_PORT to a free port`);
    });

    it('names METRICS_PORT when the metrics port is in use', async () => {
      const port = portOf(taken);
      const line = await failsWithOneLine(envFor({ SERVICES: 'ledger', METRICS_PORT: String(port) }));
      expect(line).to.equal(`start: METRICS_PORT: port ${port} is in use; set METRICS_PORT to a free port`);
    });
  });

  describe('a .env in the working directory', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'sigmatrade-dotenv-'));
      // Everything start.ts requires, and an unknown service: read, it stops start.ts naming SERVICES.
      await writeFile(
        path.join(dir, '.env'),
        Object.entries(testEnv({ SERVICES: 'nosuch', LOG_LEVEL: 'trace', DRY_RUN: 'false' }))
          .map(([name, value]) => `${name}=${value}`)
          .join('\n') + '\n',
      );
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('is read by npm start', async () => {
      const run = spawnNode({ SIGMATRADE_NO_DOTENV: '' }, { cwd: dir });
      expect((await exitWithin(run, 30_000)).code).to.equal(1);
      expect(stderrLines(run)).to.have.length(1);
      expect(stderrLines(run)[0]).to.match(/^config: SERVICES .*\bnosuch\b/);
    });

    it('is never read under the test suite (SIGMATRADE_NO_DOTENV=true)', async () => {
      expect(process.env.SIGMATRADE_NO_DOTENV).to.equal('true');
      const run = spawnNode({}, { cwd: dir });
      expect((await exitWithin(run, 30_000)).code).to.equal(1);
      // Nothing came from the .env: every required variable is missing, and SERVICES is not "nosuch".
      const lines = stderrLines(run);
      expect(lines.join('\n')).not.to.contain('nosuch');
      for (const name of ['DATABASE_URL', 'TELEGRAM_BOT_TOKEN', 'BSC_RPC_URLS', 'SYSTEM_WALLET_ADDRESS'])
        expect(
          lines.filter((line) => line.startsWith(`config: ${name} is required`)),
          lines.join('\n'),
        ).to.have.length(1);
    });
  });
});
