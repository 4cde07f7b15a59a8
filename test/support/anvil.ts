// Local BNB-Smart-Chain-like dev chain for integration tests: spawns the anvil binary shipped in
// node_modules (@foundry-rs/anvil), bound to 127.0.0.1 on a free port, chain id 56 by default.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import path from 'node:path';
import {
  AbstractSigner,
  HDNodeWallet,
  JsonRpcProvider,
  Network,
  Wallet,
  getAddress,
  toBeHex,
  toQuantity,
  type BigNumberish,
  type Provider,
  type TransactionRequest,
  type TransactionResponse,
  type TypedDataDomain,
  type TypedDataField,
} from 'ethers';
import { REPO_ROOT } from './usdt';

/** anvil's (and Hardhat's) default dev mnemonic. */
export const ANVIL_DEFAULT_MNEMONIC = 'test test test test test test test test test test test junk';
const DERIVATION_BASE = "m/44'/60'/0'/0";

export interface StartAnvilOptions {
  /** Default 56 (BNB Smart Chain mainnet), so code that pins the chain id runs unchanged. */
  chainId?: number;
  /** Seconds between automatically mined blocks (`--block-time`). Default: automine (a block per tx). */
  blockTime?: number;
  /** Number of dev accounts (`--accounts`). Default 10. */
  accounts?: number;
  /** BIP-39 mnemonic for the dev accounts. Default: anvil's "test test … junk". */
  mnemonic?: string;
  /** Ether (BNB) balance of each dev account (`--balance`). Default anvil's 10000. */
  balance?: number;
  /**
   * `--slots-in-an-epoch`. anvil reports `safe` = latest − slots and `finalized` = latest − 2×slots.
   * Default 1, so `finalized` trails the head by 2 blocks (close to BSC fast finality).
   */
  slotsInAnEpoch?: number;
  /**
   * `--hardfork`. Default 'cancun'. anvil 1.7's default (prague) deploys the EIP-2935 block-hash history
   * contract, whose storage grows every block and is re-hashed for every state root: mining slows down
   * linearly with height (20 000 empty blocks took ~225 s instead of ~2 s).
   */
  hardfork?: string;
  /**
   * `--max-persisted-states`. Default 0: historical states beyond anvil's in-memory window are dropped
   * instead of being serialised to disk as JSON on every block (the other linear-per-block slowdown).
   * Only affects state reads (eth_call / eth_getBalance) at old blocks; blocks, receipts and logs stay.
   */
  maxPersistedStates?: number;
  /** Port to bind on 127.0.0.1. Default: a free one picked at start. */
  port?: number;
  /** Pass `--silent` (default true). Output is captured either way, see `AnvilHandle.output()`. */
  silent?: boolean;
  /** Also copy anvil's output to this process's stderr (default: env ANVIL_ECHO=1). */
  echo?: boolean;
  /** Extra raw CLI arguments. */
  extraArgs?: string[];
  /** Max wait for `eth_chainId` to answer. Default 20 s. */
  startupTimeoutMs?: number;
  /** ethers provider polling interval (tx.wait(), events). Default 25 ms. */
  pollingIntervalMs?: number;
  /** Path to the anvil executable. Default: env ANVIL_BIN, else the one in node_modules. */
  binary?: string;
}

export interface AnvilAccount {
  index: number;
  address: string;
  privateKey: string;
}

/** A transaction to place in a block rebuilt by `anvil_reorg`. */
export type ReorgTxRequest = {
  /** Must be a dev account (anvil signs it) or an impersonated one. */
  from: string;
  to?: string;
  value?: BigNumberish;
  data?: string;
  /** Give it when the tx only succeeds on the new branch: anvil estimates gas against the old head. */
  gas?: BigNumberish;
  gasPrice?: BigNumberish;
  maxFeePerGas?: BigNumberish;
  maxPriorityFeePerGas?: BigNumberish;
};
/**
 * `[tx, blockOffset]`: `tx` is a JSON request anvil signs (nonce taken from the common ancestor, counted
 * up per sender) or a raw signed tx (its nonce must already fit the new branch). `blockOffset` 0 is the
 * first rebuilt block (common ancestor + 1), at most `depth − 1`.
 */
export type ReorgTx = [tx: ReorgTxRequest | string, blockOffset: number];

export interface ReorgResult {
  depth: number;
  /** Last block shared by the old and new branch (= head − depth). */
  commonAncestor: number;
  /** Head number, unchanged by the reorg. */
  head: number;
  /** Hashes of blocks commonAncestor+1 … head before the reorg (index 0 = commonAncestor+1). */
  oldHashes: string[];
  /** The same heights after the reorg. */
  newHashes: string[];
}

export interface AnvilHandle {
  readonly rpcUrl: string;
  readonly host: string;
  readonly port: number;
  readonly chainId: number;
  readonly pid: number;
  /** The options anvil was started with. */
  readonly options: Readonly<StartAnvilOptions>;
  /** ethers provider: static network, caching off, short polling interval. */
  readonly provider: JsonRpcProvider;
  /** The dev accounts (derived from the mnemonic and checked against `eth_accounts`). */
  readonly accounts: readonly AnvilAccount[];
  /** A signer for dev account `i` (default 0); the same instance every call, so nonces never collide. */
  wallet(i?: number): DevSigner;
  /** Raw JSON-RPC call (through the ethers provider). */
  send<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /** `anvil_mine`: mines `blocks` blocks (default 1) with pending txs in the first; returns the new head. */
  mine(blocks?: number, timestampIntervalSeconds?: number): Promise<number>;
  /** `anvil_reorg`: replaces the last `depth` blocks, optionally with `txs`. Resets signer nonces. */
  reorg(depth: number, txs?: ReorgTx[]): Promise<ReorgResult>;
  /** `evm_snapshot`: returns the snapshot id. */
  snapshot(): Promise<string>;
  /** `evm_revert`: true if the snapshot existed. The id (and later ones) are consumed. Resets signer nonces. */
  revert(id: string): Promise<boolean>;
  setAutomine(enabled: boolean): Promise<void>;
  getAutomine(): Promise<boolean>;
  /** `evm_setIntervalMining` (0 disables). */
  setIntervalMining(seconds: number): Promise<void>;
  setBalance(address: string, wei: BigNumberish): Promise<void>;
  blockNumber(): Promise<number>;
  /** Forget cached nonces of every signer handed out by `wallet()` (after reorgs, reverts, raw sends). */
  resetNonces(): void;
  /** The tail (64 KiB) of anvil's stdout+stderr. */
  output(): string;
  /** Kills anvil (SIGTERM, then SIGKILL after 3 s) and destroys the provider. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Signer with a local nonce counter that survives failed sends.

/**
 * Wallet-backed signer for a dev account. Sends are serialised and nonces counted locally, so many
 * `sendTransaction` calls in a row (or in parallel) never reuse a nonce. Unlike ethers' NonceManager, a
 * send that fails (e.g. gas estimation reverts) does not leave a nonce gap: the next send re-reads the
 * `pending` count from the node. Call `resetNonce()` after anything that rewrites history behind its back.
 */
export class DevSigner extends AbstractSigner<Provider> {
  readonly address: string;
  readonly privateKey: string;
  readonly wallet: Wallet;
  #next: number | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(privateKey: string, provider: Provider) {
    super(provider);
    this.wallet = new Wallet(privateKey, provider);
    this.address = this.wallet.address;
    this.privateKey = this.wallet.privateKey;
  }

  override async getAddress(): Promise<string> {
    return this.address;
  }

  /** A new signer (with its own nonce counter) on another provider. */
  override connect(provider: Provider | null): DevSigner {
    if (!provider) throw new Error('DevSigner needs a provider');
    return new DevSigner(this.privateKey, provider);
  }

  resetNonce(): void {
    this.#next = undefined;
  }

  override signTransaction(tx: TransactionRequest): Promise<string> {
    return this.wallet.signTransaction(tx);
  }

  override signMessage(message: string | Uint8Array): Promise<string> {
    return this.wallet.signMessage(message);
  }

  override signTypedData(
    domain: TypedDataDomain,
    types: Record<string, Array<TypedDataField>>,
    value: Record<string, unknown>,
  ): Promise<string> {
    return this.wallet.signTypedData(domain, types, value);
  }

  override sendTransaction(tx: TransactionRequest): Promise<TransactionResponse> {
    const run = async (): Promise<TransactionResponse> => {
      if (tx.nonce != null) {
        this.#next = undefined; // caller manages this one; re-read afterwards
        return super.sendTransaction(tx);
      }
      const nonce = this.#next ?? (await this.provider!.getTransactionCount(this.address, 'pending'));
      try {
        const response = await super.sendTransaction({ ...tx, nonce });
        this.#next = nonce + 1;
        return response;
      } catch (err) {
        this.#next = undefined;
        throw err;
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Plain JSON-RPC over fetch (used before the provider exists, and for bulk batches).

export class RpcError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(`${method}: ${message} (code ${code})`);
  }
}

interface RpcResponse {
  id: number;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

const agents = new Map<string, Agent>();

/** POST over node:http with a keep-alive agent per origin: about half the latency of fetch() per call. */
function postJson(url: string, body: string, timeoutMs: number): Promise<unknown> {
  const target = new URL(url);
  let agent = agents.get(target.origin);
  if (!agent) agents.set(target.origin, (agent = new Agent({ keepAlive: true })));
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new Error(`HTTP ${res.statusCode} from ${url}: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`JSON-RPC request to ${url} timed out after ${timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(body);
  });
}

function dropAgent(url: string): void {
  const origin = new URL(url).origin;
  agents.get(origin)?.destroy();
  agents.delete(origin);
}

export async function rpcCall<T = unknown>(
  url: string,
  method: string,
  params: unknown[] = [],
  timeoutMs = 30_000,
): Promise<T> {
  const body = (await postJson(
    url,
    JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    timeoutMs,
  )) as RpcResponse;
  if (body.error) throw new RpcError(method, body.error.code, body.error.message, body.error.data);
  return body.result as T;
}

/**
 * One HTTP request carrying a JSON-RPC batch. Results come back in call order; an error in any call
 * throws (after all of them ran). anvil executes the calls of one batch concurrently (join_all), so never
 * put calls that depend on each other's order (e.g. a send and the `anvil_mine` that should include it)
 * in the same batch.
 */
export async function rpcBatch(
  url: string,
  calls: Array<{ method: string; params?: unknown[] }>,
  timeoutMs = 120_000,
): Promise<unknown[]> {
  if (calls.length === 0) return [];
  const payload = JSON.stringify(
    calls.map((c, i) => ({ jsonrpc: '2.0', id: i, method: c.method, params: c.params ?? [] })),
  );
  const body = (await postJson(url, payload, timeoutMs)) as RpcResponse[] | RpcResponse;
  if (!Array.isArray(body)) {
    throw new RpcError('batch', body.error?.code ?? -1, body.error?.message ?? 'non-array batch response');
  }
  const out = new Array<unknown>(calls.length);
  for (const r of body) {
    if (r.error) throw new RpcError(calls[r.id]?.method ?? '?', r.error.code, r.error.message, r.error.data);
    out[r.id] = r.result;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Process management.

/** The native anvil binary: env ANVIL_BIN, else the platform package's binary, else node_modules/.bin/anvil. */
export function resolveAnvilBinary(): string {
  const fromEnv = process.env['ANVIL_BIN'];
  if (fromEnv) return fromEnv;
  // node_modules/.bin/anvil is a Node wrapper (`#!/usr/bin/env node`) that spawns this binary; running the
  // binary directly avoids an extra node process (whichever `node` is first on PATH) and makes kill() reach
  // anvil itself rather than only the wrapper.
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const native = path.join(
    REPO_ROOT,
    'node_modules',
    '@foundry-rs',
    `anvil-${process.platform}-${arch}`,
    'bin',
    'anvil',
  );
  if (existsSync(native)) return native;
  const wrapper = path.join(REPO_ROOT, 'node_modules', '.bin', 'anvil');
  if (existsSync(wrapper)) return wrapper;
  throw new Error(`anvil not found: neither ${native} nor ${wrapper} exists (is @foundry-rs/anvil installed?)`);
}

const live = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killAllSync(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

/** Makes sure no anvil outlives this process, however it ends (normal exit, mocha --exit, signals). */
function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      // Someone else handles the signal (scripts/dev.ts stops its services, then anvil): leave anvil to them and
      // to the exit hook, so nothing still reading the chain loses it first.
      if (process.listenerCount(signal) > 1) return;
      killAllSync();
      // Nobody else handles the signal: restore the default behaviour (terminate) by re-raising it.
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => process.platform === 'linux' && existsSync(p));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not pick a free port'))));
    });
  });
}

const OUTPUT_LIMIT = 64 * 1024;

function deriveAccounts(mnemonic: string, count: number): AnvilAccount[] {
  const base = HDNodeWallet.fromPhrase(mnemonic, undefined, DERIVATION_BASE);
  return Array.from({ length: count }, (_, index) => {
    const child = base.deriveChild(index);
    return { index, address: child.address, privateKey: child.privateKey };
  });
}

/** Spawns anvil and resolves once it answers `eth_chainId`. Always `stop()` it (an exit hook is a backstop). */
export async function startAnvil(opts: StartAnvilOptions = {}): Promise<AnvilHandle> {
  const host = '127.0.0.1';
  const chainId = opts.chainId ?? 56;
  const accountCount = opts.accounts ?? 10;
  const mnemonic = opts.mnemonic ?? ANVIL_DEFAULT_MNEMONIC;
  const binary = opts.binary ?? resolveAnvilBinary();
  const startupTimeoutMs = opts.startupTimeoutMs ?? 20_000;
  const echo = opts.echo ?? process.env['ANVIL_ECHO'] === '1';

  installExitHooks();

  let lastError: Error | undefined;
  // Retry only when we picked the port ourselves and lost it to someone else in between.
  for (let attempt = 0; attempt < (opts.port ? 1 : 3); attempt++) {
    const port = opts.port ?? (await freePort());
    const args = [
      '--host',
      host,
      '--port',
      String(port),
      '--chain-id',
      String(chainId),
      '--slots-in-an-epoch',
      String(opts.slotsInAnEpoch ?? 1),
      '--accounts',
      String(accountCount),
      '--mnemonic',
      mnemonic,
    ];
    if (opts.blockTime !== undefined) args.push('--block-time', String(opts.blockTime));
    if (opts.balance !== undefined) args.push('--balance', String(opts.balance));
    args.push('--hardfork', opts.hardfork ?? 'cancun');
    args.push('--max-persisted-states', String(opts.maxPersistedStates ?? 0));
    if (opts.silent ?? true) args.push('--silent');
    args.push(...(opts.extraArgs ?? []));

    // On Linux, setpriv --pdeathsig makes the kernel SIGKILL anvil if this process dies without running
    // its exit hooks (SIGKILL, OOM). setpriv execs anvil, so the pid is anvil's own.
    const [cmd, cmdArgs] = SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args]] : [binary, args];
    // A process group of its own: a terminal's Ctrl-C reaches this process, which stops what reads the chain before
    // the chain (scripts/dev.ts), not anvil directly. The exit hooks and --pdeathsig still end it with this process.
    const child = spawn(cmd, cmdArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
      detached: true,
    });
    live.add(child);

    let output = '';
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
      if (echo) process.stderr.write(chunk);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    let exitInfo: string | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = signal ? `signal ${signal}` : `code ${code}`;
        live.delete(child);
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `spawn error: ${err.message}`;
        live.delete(child);
        resolve();
      });
    });
    // A handle that was never stopped must not keep the event loop (and mocha without --exit) alive.
    child.unref();
    (child.stdout as unknown as { unref?: () => void }).unref?.();
    (child.stderr as unknown as { unref?: () => void }).unref?.();

    const rpcUrl = `http://${host}:${port}`;
    const deadline = Date.now() + startupTimeoutMs;
    let ready = false;
    while (!exitInfo && Date.now() < deadline) {
      try {
        const id = await rpcCall<string>(rpcUrl, 'eth_chainId', [], 1_000);
        if (Number(id) !== chainId)
          throw new Error(`anvil on ${rpcUrl} reports chain id ${Number(id)}, expected ${chainId}`);
        ready = true;
        break;
      } catch (err) {
        if (err instanceof Error && err.message.includes('reports chain id')) {
          child.kill('SIGKILL');
          throw err;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    if (!ready) {
      if (!exitInfo) {
        child.kill('SIGKILL');
        await exited;
        throw new Error(
          `anvil did not answer eth_chainId on ${rpcUrl} within ${startupTimeoutMs} ms.\n` +
            `command: ${binary} ${args.join(' ')}\noutput:\n${output || '(none)'}`,
        );
      }
      lastError = new Error(
        `anvil exited during startup (${exitInfo}).\ncommand: ${binary} ${args.join(' ')}\noutput:\n${output || '(none)'}`,
      );
      if (/address already in use|os error 98/i.test(output) && !opts.port) continue;
      throw lastError;
    }

    return buildHandle({
      child,
      exited,
      rpcUrl,
      host,
      port,
      chainId,
      mnemonic,
      accountCount,
      opts,
      getOutput: () => output,
    });
  }
  throw lastError ?? new Error('anvil failed to start');
}

async function buildHandle(ctx: {
  child: ChildProcess;
  exited: Promise<void>;
  rpcUrl: string;
  host: string;
  port: number;
  chainId: number;
  mnemonic: string;
  accountCount: number;
  opts: StartAnvilOptions;
  getOutput: () => string;
}): Promise<AnvilHandle> {
  const { child, exited, rpcUrl, chainId } = ctx;
  const provider = new JsonRpcProvider(rpcUrl, Network.from(chainId), {
    staticNetwork: true,
    pollingInterval: ctx.opts.pollingIntervalMs ?? 25,
    // ethers otherwise shares identical requests for 250 ms: a getBlockNumber() right after mine() would
    // return the old head.
    cacheTimeout: -1,
    // Default 10 ms: every call would wait that long for company before being sent. 0 still batches the
    // calls issued in the same tick (e.g. Promise.all).
    batchStallTime: 0,
  });

  const accounts = deriveAccounts(ctx.mnemonic, ctx.accountCount);
  const nodeAccounts = await rpcCall<string[]>(rpcUrl, 'eth_accounts');
  for (const account of accounts) {
    if (!nodeAccounts.some((a) => a.toLowerCase() === account.address.toLowerCase())) {
      child.kill('SIGKILL');
      throw new Error(`derived dev account ${account.address} is not among anvil's eth_accounts`);
    }
  }

  const signers = new Map<number, DevSigner>();
  let stopped = false;
  const send = <T>(method: string, params: unknown[] = []): Promise<T> => provider.send(method, params) as Promise<T>;
  const resetNonces = (): void => signers.forEach((s) => s.resetNonce());
  const blockNumber = async (): Promise<number> => Number(await send<string>('eth_blockNumber'));
  const hashesAt = (from: number, to: number): Promise<string[]> =>
    Promise.all(
      Array.from({ length: to - from + 1 }, async (_, k) => {
        const block = await send<{ hash: string } | null>('eth_getBlockByNumber', [toQuantity(from + k), false]);
        if (!block) throw new Error(`block ${from + k} not found`);
        return block.hash;
      }),
    );

  const handle: AnvilHandle = {
    rpcUrl,
    host: ctx.host,
    port: ctx.port,
    chainId,
    pid: child.pid ?? -1,
    options: Object.freeze({ ...ctx.opts }),
    provider,
    accounts,
    wallet(i = 0) {
      const account = accounts[i];
      if (!account) throw new Error(`no dev account ${i} (anvil started with ${accounts.length})`);
      let signer = signers.get(i);
      if (!signer) signers.set(i, (signer = new DevSigner(account.privateKey, provider)));
      return signer;
    },
    send,
    async mine(blocks = 1, timestampIntervalSeconds) {
      const params: unknown[] = [toQuantity(blocks)];
      if (timestampIntervalSeconds !== undefined) params.push(toQuantity(timestampIntervalSeconds));
      await send('anvil_mine', params);
      return blockNumber();
    },
    async reorg(depth, txs = []) {
      if (!Number.isInteger(depth) || depth < 1)
        throw new Error(`reorg depth must be a positive integer, got ${depth}`);
      const head = await blockNumber();
      if (depth > head) throw new Error(`reorg depth ${depth} exceeds head ${head}`);
      for (const [, offset] of txs) {
        if (!Number.isInteger(offset) || offset < 0 || offset >= depth) {
          throw new Error(`reorg tx block offset ${offset} must be within 0..${depth - 1}`);
        }
      }
      const commonAncestor = head - depth;
      const oldHashes = await hashesAt(commonAncestor + 1, head);
      const pairs = txs.map(([tx, offset]) => [typeof tx === 'string' ? tx : reorgTxToJson(tx), offset]);
      await send('anvil_reorg', [depth, pairs]);
      resetNonces();
      const newHead = await blockNumber();
      const newHashes = await hashesAt(commonAncestor + 1, newHead);
      return { depth, commonAncestor, head: newHead, oldHashes, newHashes };
    },
    async snapshot() {
      return send<string>('evm_snapshot');
    },
    async revert(id) {
      const ok = await send<boolean>('evm_revert', [id]);
      resetNonces();
      return ok;
    },
    async setAutomine(enabled) {
      await send('evm_setAutomine', [enabled]);
    },
    getAutomine() {
      return send<boolean>('anvil_getAutomine');
    },
    async setIntervalMining(seconds) {
      await send('evm_setIntervalMining', [seconds]);
    },
    async setBalance(address, wei) {
      await send('anvil_setBalance', [getAddress(address), toBeHex(wei)]);
    },
    blockNumber,
    resetNonces,
    output: ctx.getOutput,
    async stop() {
      if (stopped) return;
      stopped = true;
      provider.destroy();
      dropAgent(rpcUrl);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        await exited;
        clearTimeout(timer);
      }
      live.delete(child);
    },
  };
  return handle;
}

function reorgTxToJson(tx: ReorgTxRequest): Record<string, string> {
  const out: Record<string, string> = { from: getAddress(tx.from) };
  if (tx.to) out['to'] = getAddress(tx.to);
  if (tx.data) out['input'] = tx.data;
  for (const key of ['value', 'gas', 'gasPrice', 'maxFeePerGas', 'maxPriorityFeePerGas'] as const) {
    const v = tx[key];
    if (v !== undefined) out[key] = toQuantity(v);
  }
  return out;
}
