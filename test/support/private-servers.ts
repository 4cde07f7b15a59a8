// Private PostgreSQL, NATS (JetStream) and Redis servers on free ports, for specs that kill and restart them under
// load. The machine's shared servers (5432, 4222, 6379) are never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './ports';

export { freePort };

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function portAccepts(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// ---- PostgreSQL ------------------------------------------------------------------------------------------------

function postgresBin(name: string): string {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) throw new Error('PostgreSQL server binaries are not installed (/usr/lib/postgresql)');
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = path.join(root, version, 'bin', name);
    if (existsSync(bin)) return bin;
  }
  throw new Error(`${name} not found under ${root}`);
}

/** PostgreSQL refuses to run as root; as root, its commands run as the postgres user. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['runuser', ['-u', 'postgres', '--', command, ...args]];
}

function run(command: string, args: string[]): void {
  const [cmd, argv] = asPostgres(command, args);
  const result = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr || result.stdout}`);
}

export interface PrivatePostgres {
  port: number;
  /** A URL of the `postgres` database (trust authentication, user postgres). */
  url(database?: string): string;
  /** Stops the server at once (clients see their connections terminated), as a crash or a failover would. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Ends every backend of `database` with pg_terminate_backend, as a pooler restart would. */
  terminateConnections(database: string): Promise<number>;
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sigmatrade-pg-'));
  if (process.getuid?.() === 0) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
  }
  const data = path.join(dir, 'data');
  run(postgresBin('initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  // fsync=off is safe here (a stop is a crash of PostgreSQL, not of the OS); synchronous_commit stays on, as in
  // production: with it off, a crash loses commits that clients were already told about.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
  const pgCtl = postgresBin('pg_ctl');
  const handle: PrivatePostgres = {
    port,
    url: (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    async start() {
      run(pgCtl, ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', '-t', '30', 'start']);
      await waitFor(() => portAccepts(port), `private PostgreSQL on ${port}`);
    },
    async stop() {
      run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    async terminateConnections(database) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: handle.url('postgres') });
      await client.connect();
      try {
        const { rowCount } = await client.query(
          'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
          [database],
        );
        return rowCount ?? 0;
      } finally {
        await client.end();
      }
    },
    async destroy() {
      try {
        run(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

// ---- NATS with JetStream and Redis: a binary, a port and a data folder -------------------------------------------

/** A server of one binary on a free port: `kill` SIGKILLs it (clients lose it without a goodbye), `start` again. */
export interface PrivateServer {
  port: number;
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}
export type PrivateNats = PrivateServer;
/** It keeps nothing on disk, so it starts again empty. */
export type PrivateRedis = PrivateServer;

function installed(what: string, candidates: (string | undefined)[]): string {
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
  throw new Error(`${what} is not installed (apt-get install ${what})`);
}

async function startPrivateServer(options: {
  name: string;
  scheme: string;
  binary: () => string;
  args: (port: number, dir: string) => string[];
}): Promise<PrivateServer> {
  const dir = mkdtempSync(path.join(tmpdir(), `sigmatrade-${options.scheme}-`));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const handle: PrivateServer = {
    port,
    url: `${options.scheme}://127.0.0.1:${port}`,
    async start() {
      child = spawn(options.binary(), options.args(port, dir), { stdio: 'ignore' });
      await waitFor(() => portAccepts(port), `private ${options.name} on ${port}`);
    },
    async kill() {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    },
    async destroy() {
      await handle.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

export const startPrivateNats = () =>
  startPrivateServer({
    name: 'NATS',
    scheme: 'nats',
    binary: () =>
      installed('nats-server', [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server', '/usr/bin/nats-server']),
    args: (port, dir) => ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
  });

export const startPrivateRedis = () =>
  startPrivateServer({
    name: 'Redis',
    scheme: 'redis',
    binary: () =>
      installed('redis-server', [process.env.REDIS_SERVER_BIN, '/usr/bin/redis-server', '/usr/local/bin/redis-server']),
    args: (port, dir) => [
      '--bind',
      '127.0.0.1',
      '--port',
      String(port),
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
    ],
  });
