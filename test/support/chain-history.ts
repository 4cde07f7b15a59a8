// Builds a long USDT deposit history on anvil quickly. Every transaction is a real signed legacy (type 0,
// EIP-155, like most BSC traffic) raw transaction, planned up front into a block of the history; blocks are
// then produced in bulk, either by rebuilding windows of empty blocks with `anvil_reorg` (raw tx + block
// offset pairs) or by sending raw txs with automine off and `anvil_mine`-ing them, empty stretches included.
import { Interface, SigningKey, Transaction, computeAddress, getAddress, keccak256, toQuantity } from 'ethers';
import { rpcBatch, rpcCall, type AnvilHandle } from './anvil';
import { ERC20_INTERFACE, TRANSFER_TOPIC, addressTopic, compileTestUsdt } from './usdt';

export interface KeyHolder {
  privateKey: string;
}

export interface TransferHistoryOptions {
  anvil: AnvilHandle;
  /** The USDT contract (address or anything with getAddress()). Must be a TestUSDT when `fund` is on. */
  usdt: string | { getAddress(): Promise<string> };
  /** The deposit address whose incoming USDT Transfer logs the history is about. */
  to: string;
  /** Accounts that send the deposits (round-robin-ish, at random). */
  senders: ReadonlyArray<KeyHolder>;
  /** Number of USDT transfers to `to` (the logs a watcher must find). */
  transfers: number;
  /**
   * Other transactions per deposit (default 1): USDT transfers between other accounts, USDT transfers from
   * the senders to elsewhere, plain BNB transfers (some of them to `to`) and, with `decoyToken`, transfers
   * of another token to `to`. None of them is a USDT Transfer log to `to`.
   */
  noiseRatio?: number;
  /** Blocks the history spans (default 2 × (transfers + noise)). Most of them end up empty. */
  blocks?: number;
  /** Average transactions per non-empty block (default 4): fewer busy blocks = fewer round trips. */
  txsPerBusyBlock?: number;
  /** Cap per block (default 200; a USDT transfer is ~52k gas, a BSC/anvil block holds 30M). */
  maxTxsPerBlock?: number;
  /** Accounts for the noise traffic. Default: anvil dev accounts that are not senders, `to` or the minter. */
  others?: ReadonlyArray<KeyHolder>;
  /** Deposit amount in base units, fixed or per index. Default: pseudo-random 0.01 … 5000.00 USDT. */
  amount?: bigint | ((index: number) => bigint);
  /** A second ERC-20 (a TestUSDT owned by `minter`) whose transfers to `to` are noise: same event, wrong contract. */
  decoyToken?: string;
  /** Mint the USDT each account needs and top up BNB for gas before the history starts (default true). */
  fund?: boolean;
  /** Owner of the USDT (and decoy) contract, used to mint. Default anvil.accounts[0] (the usual deployer). */
  minter?: KeyHolder;
  /** Seed of the deterministic PRNG (default 1): same seed, same history. */
  seed?: number;
  /**
   * Who signs: 'auto' (default) lets anvil sign for its own dev accounts (eth_signTransaction, ~6× faster
   * than JS secp256k1) and signs the others locally; 'local' signs everything with ethers.
   */
  signWith?: 'auto' | 'local';
  /**
   * How transactions are put into their planned blocks:
   * - 'reorg' (default, ~1.4× faster for 10k deposits): mine a window of up to 256 empty blocks with `anvil_mine`, then
   *   rebuild that window in one `anvil_reorg(depth, [[rawTx, blockOffset], …])` call that places every
   *   raw tx in its block. Two RPC calls per window.
   * - 'mine': per busy block, send its raw txs (automine off) and `anvil_mine` it together with the empty
   *   blocks up to the next busy one. Two RPC calls per busy block.
   */
  packing?: 'reorg' | 'mine';
  /**
   * Timestamp step between blocks (anvil_setBlockTimestampInterval while building). Default: anvil's own
   * behaviour, where the blocks of one `anvil_mine` call share a timestamp (so the head stays near wall
   * clock); with 1, timestamps strictly increase and the head ends `blocks` seconds in the future.
   */
  secondsPerBlock?: number;
  /** Check afterwards, via eth_getLogs, that exactly the planned deposits landed in the planned blocks (default true). */
  verify?: boolean;
}

export interface PlannedDeposit {
  index: number;
  txHash: string;
  from: string;
  amount: bigint;
  blockNumber: number;
  /** From the verification pass (-1 when `verify` is off). */
  logIndex: number;
}

export interface TransferHistory {
  token: string;
  to: string;
  /** First and last block of the history (inclusive); funding happens before `fromBlock`. */
  fromBlock: number;
  toBlock: number;
  /** The deposits in chain order. */
  deposits: PlannedDeposit[];
  totalAmount: bigint;
  noise: {
    usdtTransfers: number;
    senderOutgoing: number;
    nativeTransfers: number;
    nativeToDeposit: number;
    decoyTransfers: number;
  };
  transactions: number;
  busyBlocks: number;
  timings: { fundMs: number; signMs: number; chainMs: number; verifyMs: number; totalMs: number };
}

type Kind = 'deposit' | 'usdt' | 'outgoing' | 'native' | 'nativeToDeposit' | 'decoy';

interface Planned {
  kind: Kind;
  from: number; // index into the account table
  to: string;
  token: string; // contract called by token transfers ('' for native ones)
  amount: bigint; // token units or wei
  block: number; // 0-based offset within the history
  depositIndex: number;
  nonce: number;
  raw: string;
  hash: string;
}

interface Account {
  key: SigningKey;
  address: string;
  nonce: number;
}

const USDT_TRANSFER_GAS = 90_000n;
const NATIVE_TRANSFER_GAS = 21_000n;
const GWEI = 1_000_000_000n;
const WEI_PER_BNB = 10n ** 18n;
const CENT = 10n ** 16n; // 0.01 USDT with 18 decimals
const SEND_BATCH = 250; // raw txs per HTTP request
const SIGN_BATCH = 500; // eth_signTransaction calls per HTTP request
const REORG_WINDOW = 256; // blocks rebuilt per anvil_reorg (anvil keeps ~500 states in memory)
const REORG_TXS = 2000; // raw txs per anvil_reorg request (~0.5 MB of JSON)
const NOISE_POOL = 24; // fixed set of noise recipients: keeps anvil's state (and its per-block state root) small

/** Small fast deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function transferData(to: string, amount: bigint): string {
  return ERC20_INTERFACE.encodeFunctionData('transfer', [to, amount]);
}

function txFields(p: Planned): { gasLimit: bigint; to: string; value: bigint; data: string } {
  if (p.kind === 'native' || p.kind === 'nativeToDeposit')
    return { gasLimit: NATIVE_TRANSFER_GAS, to: p.to, value: p.amount, data: '0x' };
  return { gasLimit: USDT_TRANSFER_GAS, to: p.token, value: 0n, data: transferData(p.to, p.amount) };
}

function signLegacy(
  key: SigningKey,
  fields: {
    chainId: bigint;
    nonce: number;
    gasPrice: bigint;
    gasLimit: bigint;
    to: string;
    value: bigint;
    data: string;
  },
): { raw: string; hash: string } {
  const tx = new Transaction();
  tx.type = 0;
  tx.chainId = fields.chainId;
  tx.nonce = fields.nonce;
  tx.gasPrice = fields.gasPrice;
  tx.gasLimit = fields.gasLimit;
  tx.to = fields.to;
  tx.value = fields.value;
  tx.data = fields.data;
  tx.signature = key.sign(tx.unsignedHash);
  const raw = tx.serialized;
  return { raw, hash: keccak256(raw) };
}

/**
 * Creates a chain history with exactly `transfers` USDT Transfer logs to `to`, mixed with noise, spread
 * over `blocks` blocks. Turns automine off while it runs (restored afterwards) and resets the nonce
 * counters of `anvil.wallet()` signers. Nothing else may send transactions to this anvil meanwhile.
 */
export async function buildTransferHistory(opts: TransferHistoryOptions): Promise<TransferHistory> {
  const t0 = performance.now();
  const { anvil } = opts;
  if (anvil.options.blockTime !== undefined)
    throw new Error('buildTransferHistory needs an anvil without --block-time');
  const N = opts.transfers;
  if (!Number.isInteger(N) || N < 0) throw new Error(`transfers must be a non-negative integer, got ${N}`);
  if (opts.senders.length === 0) throw new Error('at least one sender is needed');
  const rand = prng(opts.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)]!;

  const token = getAddress(typeof opts.usdt === 'string' ? opts.usdt : await opts.usdt.getAddress());
  const to = getAddress(opts.to);
  const decoy = opts.decoyToken ? getAddress(opts.decoyToken) : undefined;
  const minterKey = opts.minter ?? anvil.accounts[0];
  if (!minterKey) throw new Error('no minter account');
  const chainId = BigInt(anvil.chainId);
  const signWith = opts.signWith ?? 'auto';
  const packing = opts.packing ?? 'reorg';

  // --- accounts ------------------------------------------------------------------------------------------
  const accounts: Account[] = [];
  const byAddress = new Map<string, number>();
  const addAccount = (holder: KeyHolder): number => {
    const key = new SigningKey(holder.privateKey);
    const address = computeAddress(key.publicKey);
    const known = byAddress.get(address);
    if (known !== undefined) return known;
    if (address === to) throw new Error(`the deposit address ${to} cannot also send in the history`);
    accounts.push({ key, address, nonce: 0 });
    byAddress.set(address, accounts.length - 1);
    return accounts.length - 1;
  };
  const minter = addAccount(minterKey);
  const senders = [...new Set(opts.senders.map(addAccount))];
  const defaultOthers = anvil.accounts.filter((a) => {
    const addr = getAddress(a.address);
    return addr !== to && !byAddress.has(addr);
  });
  let others = [...new Set((opts.others ?? defaultOthers).map(addAccount))].filter(
    (i) => i !== minter && !senders.includes(i),
  );
  if (others.length < 2) others = senders.length >= 2 ? senders : [...senders, minter];
  // Noise recipients: a fixed pool of deterministic addresses nobody controls.
  const pool = Array.from({ length: NOISE_POOL }, (_, i) =>
    getAddress('0x' + keccak256(new TextEncoder().encode(`sigmatrade-noise-${opts.seed ?? 1}-${i}`)).slice(-40)),
  );

  // --- plan ----------------------------------------------------------------------------------------------
  const noiseCount = Math.round(N * (opts.noiseRatio ?? 1));
  const total = N + noiseCount;
  const blocks = opts.blocks ?? Math.max(1, 2 * total);
  const maxPerBlock = opts.maxTxsPerBlock ?? 200;
  const busy = Math.min(
    blocks,
    Math.max(total > 0 ? 1 : 0, Math.ceil(total / (opts.txsPerBusyBlock ?? 4)), Math.ceil(total / maxPerBlock)),
  );
  if (total > busy * maxPerBlock)
    throw new Error(`${total} transactions do not fit in ${blocks} blocks of at most ${maxPerBlock}`);

  // Busy block offsets: a uniform random subset of [0, blocks).
  const busyOffsets: number[] = [];
  if (busy === blocks) {
    for (let b = 0; b < blocks; b++) busyOffsets.push(b);
  } else {
    const chosen = new Set<number>();
    while (chosen.size < busy) chosen.add(Math.floor(rand() * blocks));
    busyOffsets.push(...[...chosen].sort((a, b) => a - b));
  }
  // Every busy block gets one tx, the rest land at random (respecting the cap).
  const load = new Array<number>(busy).fill(0);
  const slotOf = (i: number): number => {
    if (i < busy) return i;
    for (;;) {
      const s = Math.floor(rand() * busy);
      if (load[s]! < maxPerBlock) return s;
    }
  };
  const amountOf = (i: number): bigint => {
    if (typeof opts.amount === 'bigint') return opts.amount;
    if (typeof opts.amount === 'function') return opts.amount(i);
    return BigInt(1 + Math.floor(rand() * 500_000)) * CENT;
  };

  const kinds: Kind[] = [];
  for (let i = 0; i < N; i++) kinds.push('deposit');
  for (let i = 0; i < noiseCount; i++) {
    const r = rand();
    if (decoy && r < 0.1) kinds.push('decoy');
    else if (r < 0.45) kinds.push('usdt');
    else if (r < 0.65) kinds.push('outgoing');
    else if (r < 0.88) kinds.push('native');
    else kinds.push('nativeToDeposit');
  }
  // Shuffle so deposits and noise interleave (Fisher-Yates).
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }

  const plan: Planned[] = [];
  let depositIndex = 0;
  kinds.forEach((kind, i) => {
    const slot = slotOf(i);
    load[slot]!++;
    const block = busyOffsets[slot]!;
    const base = { block, depositIndex: -1, nonce: 0, raw: '', hash: '', token };
    switch (kind) {
      case 'deposit':
        plan.push({
          ...base,
          kind,
          from: pick(senders),
          to,
          amount: amountOf(depositIndex),
          depositIndex: depositIndex++,
        });
        break;
      case 'usdt': {
        const from = pick(others);
        const peers = others.filter((o) => o !== from);
        const dest = peers.length > 0 && rand() < 0.5 ? accounts[pick(peers)]!.address : pick(pool);
        plan.push({ ...base, kind, from, to: dest, amount: BigInt(1 + Math.floor(rand() * 100_000)) * CENT });
        break;
      }
      case 'outgoing':
        plan.push({
          ...base,
          kind,
          from: pick(senders),
          to: pick(pool),
          amount: BigInt(1 + Math.floor(rand() * 10_000)) * CENT,
        });
        break;
      case 'native':
        plan.push({
          ...base,
          kind,
          token: '',
          from: pick([...others, ...senders]),
          to: pick(pool),
          amount: BigInt(1 + Math.floor(rand() * 1000)) * 10n ** 14n,
        });
        break;
      case 'nativeToDeposit':
        plan.push({
          ...base,
          kind,
          token: '',
          from: pick(senders),
          to,
          amount: BigInt(1 + Math.floor(rand() * 1000)) * 10n ** 14n,
        });
        break;
      case 'decoy':
        plan.push({
          ...base,
          kind,
          token: decoy!,
          from: pick(senders),
          to,
          amount: BigInt(1 + Math.floor(rand() * 500_000)) * CENT,
        });
        break;
    }
  });
  // Chain order: by block, then plan order (nonces follow it, so the pool keeps each sender's order).
  plan.sort((a, b) => a.block - b.block);

  // --- fund ----------------------------------------------------------------------------------------------
  const url = anvil.rpcUrl;
  const wasAutomine = await anvil.getAutomine();
  const tFund = performance.now();
  const latest = await rpcCall<{ baseFeePerGas?: string }>(url, 'eth_getBlockByNumber', ['latest', false]);
  const baseFee = BigInt(latest.baseFeePerGas ?? '0x0');
  // Empty blocks only lower the base fee and our blocks stay under the gas target, so this always clears.
  const gasPrice = 2n * baseFee + GWEI;

  const needUsdt = new Map<number, bigint>();
  const needDecoy = new Map<number, bigint>();
  const needGas = new Map<number, bigint>();
  for (const p of plan) {
    const native = p.kind === 'native' || p.kind === 'nativeToDeposit';
    if (p.kind === 'decoy') needDecoy.set(p.from, (needDecoy.get(p.from) ?? 0n) + p.amount);
    else if (!native) needUsdt.set(p.from, (needUsdt.get(p.from) ?? 0n) + p.amount);
    const cost = (native ? NATIVE_TRANSFER_GAS : USDT_TRANSFER_GAS) * gasPrice + (native ? p.amount : 0n);
    needGas.set(p.from, (needGas.get(p.from) ?? 0n) + cost);
  }

  const counts = (await rpcBatch(
    url,
    accounts.map((a) => ({ method: 'eth_getTransactionCount', params: [a.address, 'pending'] })),
  )) as string[];
  accounts.forEach((a, i) => (a.nonce = Number(counts[i])));

  try {
    await anvil.setAutomine(false);
    if (opts.secondsPerBlock !== undefined)
      await rpcCall(url, 'anvil_setBlockTimestampInterval', [opts.secondsPerBlock]);
    if (opts.fund ?? true) {
      const balances = (await rpcBatch(
        url,
        [...needGas.keys()].map((i) => ({ method: 'eth_getBalance', params: [accounts[i]!.address, 'latest'] })),
      )) as string[];
      const topUps: Array<{ method: string; params: unknown[] }> = [];
      [...needGas.entries()].forEach(([i, need], k) => {
        const want = need + 10n * WEI_PER_BNB;
        if (BigInt(balances[k]!) < want)
          topUps.push({
            method: 'anvil_setBalance',
            params: [accounts[i]!.address, toQuantity(want + 1000n * WEI_PER_BNB)],
          });
      });
      await rpcBatch(url, topUps);

      const mints: string[] = [];
      const m = accounts[minter]!;
      const mint = (contract: string, holder: number, amount: bigint): void => {
        const data = compiledIface().encodeFunctionData('mint', [accounts[holder]!.address, amount]);
        mints.push(
          signLegacy(m.key, { chainId, nonce: m.nonce++, gasPrice, gasLimit: 120_000n, to: contract, value: 0n, data })
            .raw,
        );
      };
      for (const [holder, amount] of needUsdt) mint(token, holder, amount);
      if (decoy) for (const [holder, amount] of needDecoy) mint(decoy, holder, amount);
      for (let i = 0; i < mints.length; i += SEND_BATCH) {
        await rpcBatch(
          url,
          mints.slice(i, i + SEND_BATCH).map((raw) => ({ method: 'eth_sendRawTransaction', params: [raw] })),
        );
      }
      if (mints.length > 0) await rpcCall(url, 'anvil_mine', ['0x1']);
      const status = await rpcCall<{ pending: string; queued: string }>(url, 'txpool_status');
      if (Number(status.pending) + Number(status.queued) > 0)
        throw new Error('funding transactions were not all mined (is the minter the token owner?)');
      for (const [holder, amount] of needUsdt) {
        const bal = BigInt(
          await rpcCall<string>(url, 'eth_call', [
            { to: token, data: ERC20_INTERFACE.encodeFunctionData('balanceOf', [accounts[holder]!.address]) },
            'latest',
          ]),
        );
        if (bal < amount)
          throw new Error(
            `funding failed: ${accounts[holder]!.address} holds ${bal} < ${amount} USDT units (is ${accounts[minter]!.address} the token owner?)`,
          );
      }
    }
    const fundMs = performance.now() - tFund;

    // --- sign --------------------------------------------------------------------------------------------
    // Accounts anvil holds keys for are signed by anvil (eth_signTransaction, native code: ~0.07 ms/tx in
    // batches) instead of ethers/noble in JS (~0.45 ms/tx). Both give real signed legacy EIP-155 txs.
    const tSign = performance.now();
    const nodeKeys =
      signWith === 'local'
        ? new Set<string>()
        : new Set((await rpcCall<string[]>(url, 'eth_accounts')).map((a) => getAddress(a)));
    const remote: Planned[] = [];
    for (const p of plan) {
      const a = accounts[p.from]!;
      p.nonce = a.nonce++;
      if (nodeKeys.has(a.address)) {
        remote.push(p);
        continue;
      }
      const f = txFields(p);
      const signed = signLegacy(a.key, { chainId, nonce: p.nonce, gasPrice, ...f });
      p.raw = signed.raw;
      p.hash = signed.hash;
    }
    for (let k = 0; k < remote.length; k += SIGN_BATCH) {
      const chunk = remote.slice(k, k + SIGN_BATCH);
      const raws = (await rpcBatch(
        url,
        chunk.map((p) => {
          const f = txFields(p);
          return {
            method: 'eth_signTransaction',
            params: [
              {
                from: accounts[p.from]!.address,
                to: f.to,
                nonce: toQuantity(p.nonce),
                gas: toQuantity(f.gasLimit),
                gasPrice: toQuantity(gasPrice),
                value: toQuantity(f.value),
                data: f.data,
                chainId: toQuantity(chainId),
              },
            ],
          };
        }),
      )) as string[];
      chunk.forEach((p, n) => {
        p.raw = raws[n]!;
        p.hash = keccak256(p.raw);
      });
    }
    if (remote.length > 0) {
      // One full decode as a guard against anvil changing what eth_signTransaction returns.
      const probe = Transaction.from(remote[0]!.raw);
      if (
        probe.type !== 0 ||
        probe.chainId !== chainId ||
        probe.from !== accounts[remote[0]!.from]!.address ||
        probe.nonce !== remote[0]!.nonce
      ) {
        throw new Error(`eth_signTransaction returned an unexpected transaction: ${JSON.stringify(probe.toJSON())}`);
      }
    }
    const signMs = performance.now() - tSign;

    // --- produce blocks ----------------------------------------------------------------------------------
    const tChain = performance.now();
    const head0 = Number(await rpcCall<string>(url, 'eth_blockNumber'));
    const fromBlock = head0 + 1;
    if (packing === 'mine') await packByMining(url, plan, blocks);
    else await packByReorg(url, plan, blocks);
    const toBlock = fromBlock + blocks - 1;
    const head = Number(await rpcCall<string>(url, 'eth_blockNumber'));
    if (head !== toBlock) throw new Error(`expected head ${toBlock} after the history, got ${head}`);
    const status = await rpcCall<{ pending: string; queued: string }>(url, 'txpool_status');
    if (Number(status.pending) + Number(status.queued) > 0) {
      throw new Error(`history transactions left in the pool: ${status.pending} pending, ${status.queued} queued`);
    }
    const chainMs = performance.now() - tChain;

    // --- verify ------------------------------------------------------------------------------------------
    const tVerify = performance.now();
    const depositsPlanned = plan.filter((p) => p.kind === 'deposit');
    const deposits: PlannedDeposit[] = depositsPlanned.map((p) => ({
      index: p.depositIndex,
      txHash: p.hash,
      from: accounts[p.from]!.address,
      amount: p.amount,
      blockNumber: fromBlock + p.block,
      logIndex: -1,
    }));
    if (opts.verify ?? true) {
      const logs = await rpcCall<
        Array<{ transactionHash: string; blockNumber: string; logIndex: string; data: string }>
      >(url, 'eth_getLogs', [
        {
          address: token,
          topics: [TRANSFER_TOPIC, null, addressTopic(to)],
          fromBlock: toQuantity(fromBlock),
          toBlock: toQuantity(toBlock),
        },
      ]);
      const byHash = new Map(logs.map((l) => [l.transactionHash.toLowerCase(), l]));
      if (logs.length !== deposits.length) {
        throw new Error(`history verification: ${logs.length} Transfer logs to ${to}, planned ${deposits.length}`);
      }
      for (const d of deposits) {
        const log = byHash.get(d.txHash.toLowerCase());
        if (!log) throw new Error(`history verification: deposit ${d.txHash} produced no Transfer log`);
        if (Number(log.blockNumber) !== d.blockNumber) {
          throw new Error(
            `history verification: deposit ${d.txHash} landed in block ${Number(log.blockNumber)}, planned ${d.blockNumber}`,
          );
        }
        if (BigInt(log.data) !== d.amount)
          throw new Error(`history verification: deposit ${d.txHash} moved ${BigInt(log.data)}, planned ${d.amount}`);
        d.logIndex = Number(log.logIndex);
      }
      deposits.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
    }
    const verifyMs = performance.now() - tVerify;

    const noise = { usdtTransfers: 0, senderOutgoing: 0, nativeTransfers: 0, nativeToDeposit: 0, decoyTransfers: 0 };
    for (const k of kinds) {
      if (k === 'usdt') noise.usdtTransfers++;
      else if (k === 'outgoing') noise.senderOutgoing++;
      else if (k === 'native') noise.nativeTransfers++;
      else if (k === 'nativeToDeposit') noise.nativeToDeposit++;
      else if (k === 'decoy') noise.decoyTransfers++;
    }
    return {
      token,
      to,
      fromBlock,
      toBlock,
      deposits,
      totalAmount: deposits.reduce((s, d) => s + d.amount, 0n),
      noise,
      transactions: plan.length,
      busyBlocks: busy,
      timings: { fundMs, signMs, chainMs, verifyMs, totalMs: performance.now() - t0 },
    };
  } finally {
    if (opts.secondsPerBlock !== undefined)
      await rpcCall(url, 'anvil_removeBlockTimestampInterval').catch(() => undefined);
    await anvil.setAutomine(wasAutomine).catch(() => undefined);
    anvil.resetNonces();
  }
}

/** Per busy block: send its raw txs (one batch), then `anvil_mine` it plus the empty blocks after it. */
async function packByMining(url: string, plan: Planned[], blocks: number): Promise<void> {
  if (plan.length === 0 || plan[0]!.block > 0) {
    await rpcCall(url, 'anvil_mine', [toQuantity(plan.length === 0 ? blocks : plan[0]!.block)]);
  }
  let i = 0;
  while (i < plan.length) {
    const block = plan[i]!.block;
    let j = i;
    while (j < plan.length && plan[j]!.block === block) j++;
    // anvil runs the calls of one batch concurrently: the sends share a batch, the mine gets its own request.
    for (let k = i; k < j; k += SEND_BATCH) {
      await rpcBatch(
        url,
        plan.slice(k, Math.min(j, k + SEND_BATCH)).map((p) => ({ method: 'eth_sendRawTransaction', params: [p.raw] })),
      );
    }
    const next = j < plan.length ? plan[j]!.block : blocks;
    await rpcCall(url, 'anvil_mine', [toQuantity(next - block)]);
    i = j;
  }
}

/**
 * Per window of ≤ REORG_WINDOW blocks: `anvil_mine` the window empty, then `anvil_reorg` it with every raw
 * tx tagged with its block offset in the window. anvil re-executes the window from the common ancestor
 * (it needs that state in memory: anvil keeps ~500 recent states with --max-persisted-states 0).
 */
async function packByReorg(url: string, plan: Planned[], blocks: number): Promise<void> {
  let i = 0;
  let start = 0;
  while (start < blocks) {
    let end = Math.min(blocks, start + REORG_WINDOW);
    let j = i;
    while (j < plan.length && plan[j]!.block < end) j++;
    if (j - i > REORG_TXS) {
      // Too many txs for one request: end the window at the busy block that crosses the limit.
      j = i + REORG_TXS;
      const lastBlock = plan[j - 1]!.block;
      while (j > i && plan[j - 1]!.block === lastBlock && plan[j]?.block === lastBlock) j--;
      if (j === i) {
        // a single block with more than REORG_TXS txs: take it whole
        j = i;
        while (j < plan.length && plan[j]!.block === lastBlock) j++;
      }
      end = plan[j - 1]!.block + 1;
    }
    await rpcCall(url, 'anvil_mine', [toQuantity(end - start)]);
    if (j > i) {
      const pairs = plan.slice(i, j).map((p) => [p.raw, p.block - start]);
      await rpcCall(url, 'anvil_reorg', [end - start, pairs], 300_000);
    }
    i = j;
    start = end;
  }
}

let mintIface: Interface | undefined;
function compiledIface(): Interface {
  return (mintIface ??= new Interface(compileTestUsdt().abi));
}
