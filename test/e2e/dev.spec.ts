// `npm run dev` (scripts/dev.ts) as a user runs it, on private ports and a database of its own: the banner, a REPL
// attached to it, Ctrl-C ending it cleanly (exit 0, no warning or stack after the signal), what it owns removed on
// exit, a SIGKILLed run's leftovers removed by the next start while a live run's stay, and every failure before the
// banner as one line.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import pg from 'pg';
import { createRedis } from '../../lib/redis';
import { exitWithin, killAllNodes, spawnNode, type NodeProcess } from '../support/node-process';
import { freePort, occupyPort } from '../support/ports';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATABASE = `sigmatrade_devspec_${randomBytes(3).toString('hex')}`;
const DATABASE_URL = `postgresql://postgres@127.0.0.1:5432/${DATABASE}`;
const BANNER = /Press Ctrl-C to stop\./;
const STACK_LINE = /^\s+at \S/m;

/** scripts/dev.ts --no-demo on free private ports (PATH and HOME only, plus `env`). */
async function dev(env: Record<string, string> = {}): Promise<NodeProcess> {
  return spawnNode(
    {
      DATABASE_URL,
      HTTP_PORT: String(await freePort()),
      METRICS_PORT: String(await freePort()),
      EMULATOR_PORT: String(await freePort()),
      ...env,
    },
    { script: 'scripts/dev.ts', args: ['--no-demo'], detached: true },
  );
}

const namespaceOf = (run: NodeProcess) => /NATS namespace\s+(dev-[0-9a-f]{8})/.exec(run.stdout())![1]!;

/** What a namespace owns: its schema, JetStream streams and Redis keys. */
async function traces(namespace: string) {
  const schema = namespace.replace('-', '_');
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  const { rows } = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  await pool.end();
  const nc = await connect({ servers: '127.0.0.1:4222' });
  let streams = 0;
  for await (const info of (await nc.jetstreamManager()).streams.list())
    if (info.config.name.startsWith(`${namespace}_`)) streams++;
  await nc.close();
  const redis = createRedis('redis://127.0.0.1:6379');
  let keys = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    keys += found.length;
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
  return { schema: rows.length, streams, keys };
}

/** Ctrl-C: SIGINT to its whole process group, as a terminal sends it; returns the exit and what it printed after. */
async function interrupt(run: NodeProcess) {
  const [outBefore, errBefore] = [run.stdout().length, run.stderr().length];
  process.kill(-run.child.pid!, 'SIGINT');
  const exit = await exitWithin(run, 20_000);
  return { exit, after: run.stdout().slice(outBefore) + run.stderr().slice(errBefore) };
}

/** The REPL script attached to `namespace`, fed `commands` one by one; resolves with its exit code and output. */
function repl(namespace: string, commands: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/repl.ts', '--namespace', namespace], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? ROOT, SIGMATRADE_NO_DOTENV: 'true' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const queue = [...commands];
    let asked = 0;
    // One command per prompt ("mol $"), so each is answered before the next.
    const timer = setInterval(() => {
      const prompts = output.split('mol $').length - 1;
      if (prompts > asked && queue.length > 0) {
        asked = prompts;
        child.stdin.write(`${queue.shift()}\n`);
      }
    }, 100);
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearInterval(timer);
      clearTimeout(kill);
      resolve({ code, output });
    });
  });
}

describe('npm run dev', function () {
  this.timeout(120_000);

  after(async () => {
    await killAllNodes();
    const admin = new pg.Pool({ connectionString: 'postgresql://postgres@127.0.0.1:5432/postgres', max: 1 });
    await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
    await admin.end();
  });

  describe('its sandbox', () => {
    let killed: string;
    let survivor: NodeProcess;

    it('creates its database when missing, and a run killed with SIGKILL leaves its sandbox', async () => {
      const run = await dev();
      await run.printed(BANNER, 90_000);
      expect(run.stdout()).to.contain(`dev: created the database "${DATABASE}"`);
      killed = namespaceOf(run);
      expect(await run.kill('SIGKILL')).to.deep.include({ signal: 'SIGKILL' });
      const left = await traces(killed);
      expect(left.schema).to.equal(1);
      expect(left.streams).to.be.above(0);
    });

    it("the next start removes the dead run's leftovers, prints the banner and serves a REPL", async () => {
      survivor = await dev();
      await survivor.printed(BANNER, 90_000);
      const out = survivor.stdout();
      expect(out).not.to.contain('created the database');
      expect(out).to.match(new RegExp(`dev: removed what 1 dead dev run\\(s\\) left \\(${killed}\\)`));
      expect(await traces(killed)).to.deep.equal({ schema: 0, streams: 0, keys: 0 });
      const namespace = namespaceOf(survivor);
      expect(out).to.match(/web chat\s+http:\/\/127\.0\.0\.1:\d+\//);
      expect(out).to.contain(`npm run repl -- --namespace ${namespace}`);

      const session = await repl(namespace, ['call ledger.check', 'quit']);
      expect(session.code, session.output).to.equal(0);
      // moleculer-repl colours its answer; without the colour codes it reads `ok: true`.
      expect(session.output.replace(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g'), '')).to.match(
        /Response:[\s\S]*ok: true/,
      );
    });

    it("a start beside a live run keeps the live run's sandbox, and Ctrl-C ends each cleanly, removing its own", async () => {
      const second = await dev();
      await second.printed(BANNER, 90_000);
      expect(second.stdout()).not.to.contain('dead dev run');
      const live = namespaceOf(survivor);
      expect((await traces(live)).schema).to.equal(1);

      for (const run of [second, survivor]) {
        const namespace = namespaceOf(run);
        const { exit, after } = await interrupt(run);
        expect(exit, after).to.deep.equal({ code: 0, signal: null });
        // Nothing but its own "stopped" line after the signal: no warning, no log line, no stack.
        expect(
          after.split('\n').filter((line) => line.trim() !== ''),
          after,
        ).to.have.length(1);
        expect(after).to.match(/^dev: stopped in \d+\.\d s; dev-[0-9a-f]{8} removed\n$/);
        expect(after).not.to.match(STACK_LINE);
        expect(await traces(namespace)).to.deep.equal({ schema: 0, streams: 0, keys: 0 });
      }
    });
  });

  describe('a failure before the banner is one line, exit 1', () => {
    let taken: Server;
    let port: number;
    before(async () => {
      taken = await occupyPort();
      port = (taken.address() as { port: number }).port;
    });
    after(() => new Promise((resolve) => taken.close(resolve)));

    const cases: [string, () => Record<string, string>, RegExp][] = [
      [
        'EMULATOR_PORT busy',
        () => ({ EMULATOR_PORT: String(port) }),
        /^dev: EMULATOR_PORT: port \d+ is in use; set EMULATOR_PORT to a free port$/,
      ],
      [
        'HTTP_PORT busy',
        () => ({ HTTP_PORT: String(port) }),
        /^dev: HTTP_PORT: port \d+ is in use; set HTTP_PORT to a free port$/,
      ],
      [
        'METRICS_PORT busy',
        () => ({ METRICS_PORT: String(port) }),
        /^dev: METRICS_PORT: port \d+ is in use; set METRICS_PORT to a free port$/,
      ],
      [
        'Anvil missing',
        () => ({ ANVIL_BIN: '/nonexistent/anvil' }),
        /^dev: ANVIL_BIN: \/nonexistent\/anvil is not an executable file/,
      ],
      [
        'PostgreSQL down',
        () => ({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/sigmatrade_test' }),
        /^dev: DATABASE_URL \(postgresql:\/\/postgres@127\.0\.0\.1:1\/sigmatrade_test\): nothing accepts connections at 127\.0\.0\.1:1; start PostgreSQL/,
      ],
      [
        'Redis down',
        () => ({ REDIS_URL: 'redis://127.0.0.1:1' }),
        /^dev: REDIS_URL \(redis:\/\/127\.0\.0\.1:1\): nothing accepts connections at 127\.0\.0\.1:1; start Redis, or set REDIS_URL$/,
      ],
      [
        'NATS down',
        () => ({ NATS_URL: 'nats://127.0.0.1:1' }),
        /^dev: NATS_URL \(nats:\/\/127\.0\.0\.1:1\): nothing accepts connections at 127\.0\.0\.1:1; start nats-server -js, or set NATS_URL$/,
      ],
    ];
    for (const [what, env, line] of cases) {
      it(what, async () => {
        const run = await dev(env());
        const exit = await exitWithin(run, 30_000);
        const output = run.stdout() + run.stderr();
        expect(exit.code, output).to.equal(1);
        const lines = run
          .stderr()
          .split('\n')
          .filter((l) => l.trim() !== '');
        expect(lines, output).to.have.length(1);
        expect(lines[0]).to.match(line);
        expect(output).not.to.match(STACK_LINE);
        expect(run.stdout()).not.to.match(BANNER);
      });
    }
  });
});
