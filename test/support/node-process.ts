// `scripts/start.ts` as its own OS process, so a spec can SIGKILL it, watch it survive a dependency's outage, or
// read what it printed. Its environment is PATH and HOME plus what the spec gives (no .env, nothing inherited).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NO_DOTENV_ENV } from './no-dotenv';

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
  /** Resolves once stdout matches `pattern` (e.g. scripts/dev.ts's banner); rejects if it exits first. */
  printed(pattern: RegExp, ms?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<Exit>;
}

const live = new Set<NodeProcess>();

export interface SpawnOptions {
  skipMigrations?: boolean;
  /** Another script of the repository (default scripts/start.ts), e.g. scripts/dev.ts. */
  script?: string;
  args?: string[];
  /** Working directory (default the repository); tsx and the script are found from the repository all the same. */
  cwd?: string;
  /** A process group of its own, so a spec can signal the group as a terminal's Ctrl-C does. */
  detached?: boolean;
}

const TSX_LOADER = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export function spawnNode(env: Record<string, string>, options: SpawnOptions = {}): NodeProcess {
  const script = path.join(ROOT, options.script ?? 'scripts/start.ts');
  const child = spawn(process.execPath, ['--import', TSX_LOADER, script, ...(options.args ?? [])], {
    cwd: options.cwd ?? ROOT,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? ROOT,
      ...NO_DOTENV_ENV,
      ...(options.skipMigrations === false ? {} : { SKIP_MIGRATIONS: 'true' }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
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
    started(ms = 30_000) {
      return handle.printed(/"msg":"SigmaTrade node started"/, ms);
    },
    async printed(pattern, ms = 30_000) {
      const deadline = Date.now() + ms;
      const name = options.script ?? 'start.ts';
      for (;;) {
        if (pattern.test(out)) return;
        if (!handle.alive) throw new Error(`${name} exited before it printed ${pattern}:\n${err}\n${out}`);
        if (Date.now() > deadline) throw new Error(`${name} did not print ${pattern} within ${ms} ms:\n${err}`);
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

/** The process's exit, or a failure naming what it printed if it has not exited within `ms`. */
export async function exitWithin(run: NodeProcess, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no exit within ${ms} ms:\n${run.stderr()}\n${run.stdout()}`)), ms);
  });
  try {
    return await Promise.race([run.exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
