// `scripts/start.ts` as its own OS process, so a spec can SIGKILL it, watch it survive a dependency's outage, or
// read what it printed. Its environment is PATH and HOME plus what the spec gives (no .env, nothing inherited).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout's JSON log lines, parsed. */
  logLines(): Record<string, unknown>[];
  exit: Promise<Exit>;
  readonly alive: boolean;
  /** Resolves once the node logged that it started; rejects if it exits first or takes longer than `ms`. */
  started(ms?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<Exit>;
}

const live = new Set<NodeProcess>();

export function spawnNode(env: Record<string, string>, options: { skipMigrations?: boolean } = {}): NodeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? ROOT,
      ...(options.skipMigrations === false ? {} : { SKIP_MIGRATIONS: 'true' }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exit = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const handle: NodeProcess = {
    child,
    stdout: () => out,
    stderr: () => err,
    logLines: () =>
      out
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as Record<string, unknown>];
          } catch {
            return [];
          }
        }),
    exit,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
    async started(ms = 30_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        if (out.includes('"msg":"SigmaTrade node started"')) return;
        if (!handle.alive) throw new Error(`start.ts exited before it started:\n${err}`);
        if (Date.now() > deadline) throw new Error(`start.ts did not start within ${ms} ms:\n${err}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async kill(signal = 'SIGKILL') {
      if (handle.alive) child.kill(signal);
      const result = await exit;
      live.delete(handle);
      return result;
    },
  };
  live.add(handle);
  void exit.then(() => live.delete(handle));
  return handle;
}

/** SIGKILLs every node a spec left running (call from `after`). */
export async function killAllNodes(): Promise<void> {
  await Promise.all([...live].map((node) => node.kill('SIGKILL')));
}
