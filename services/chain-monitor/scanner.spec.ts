// DepositScanner's decisions against a fake chain and an in-memory store: windows, depth, reorgs, and providers
// that refuse, lag or leave logs out. (The store's SQL is specified on PostgreSQL in test/integration.)
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type { BlockRef, TransferLog } from '../../lib/chain/reads';
import { RangeTooLargeError } from '../../lib/chain/rpc';
import { rootLogger } from '../../lib/logger';
import { DepositScanner, type ScannerChain, type ScannerStore } from './scanner';
import type { ObservedTransfer, WindowResult } from './store';

const TOKEN = '0x55d398326f99059fF775485246999027B3197955';
const SYSTEM = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const SENDER = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';
const hash = () => `0x${randomBytes(32).toString('hex')}`;

interface FakeBlock {
  number: bigint;
  hash: string;
  logs: TransferLog[];
}

class FakeChain implements ScannerChain {
  readonly blocks: FakeBlock[] = [{ number: 0n, hash: hash(), logs: [] }];
  /** Widest eth_getLogs range the provider serves. */
  maxRange = Infinity;
  /** The provider is this many blocks behind the real head. */
  lag = 0;
  /** Answers "no such block" for these numbers. */
  readonly missing = new Set<bigint>();
  /** Leaves this transaction out of the next eth_getLogs answers. */
  omit: { txHash: string; times: number } | undefined;
  readonly ranges: [bigint, bigint][] = [];

  mine(count = 1, deposits: Record<number, bigint> = {}): void {
    for (let i = 0; i < count; i++) {
      const number = BigInt(this.blocks.length);
      const block: FakeBlock = { number, hash: hash(), logs: [] };
      const amount = deposits[Number(number)];
      if (amount !== undefined) block.logs.push(this.log(block, amount));
      this.blocks.push(block);
    }
  }

  /** Replaces the last `depth` blocks; `moved` puts existing transactions into new blocks (by number). */
  reorg(depth: number, moved: Record<number, TransferLog> = {}): void {
    const replaced = this.blocks.splice(this.blocks.length - depth);
    for (const old of replaced) {
      const block: FakeBlock = { number: old.number, hash: hash(), logs: [] };
      const tx = moved[Number(old.number)];
      if (tx) block.logs.push({ ...tx, blockNumber: block.number, blockHash: block.hash });
      this.blocks.push(block);
    }
  }

  log(block: FakeBlock, amount: bigint, txHash = hash()): TransferLog {
    return { txHash, logIndex: 0, blockNumber: block.number, blockHash: block.hash, from: SENDER, to: SYSTEM, amount };
  }

  logsAt(number: number): TransferLog[] {
    return this.blocks[number]!.logs;
  }

  async headNumber(): Promise<bigint> {
    return BigInt(this.blocks.length - 1 - this.lag);
  }

  async block(tag: bigint | 'latest' | 'finalized'): Promise<BlockRef | null> {
    const number = typeof tag === 'bigint' ? tag : await this.headNumber();
    if (this.missing.has(number) || number > (await this.headNumber())) return null;
    const block = this.blocks[Number(number)];
    return block ? { number: block.number, hash: block.hash } : null;
  }

  async transfersTo(_token: string, _to: string, from: bigint, to: bigint): Promise<TransferLog[]> {
    if (to - from + 1n > BigInt(Math.min(this.maxRange, Number.MAX_SAFE_INTEGER)))
      throw new RangeTooLargeError('exceed maximum block range');
    this.ranges.push([from, to]);
    const logs = this.blocks.slice(Number(from), Number(to) + 1).flatMap((b) => b.logs);
    const left = this.omit;
    if (left && left.times > 0 && logs.some((l) => l.txHash === left.txHash)) {
      left.times--;
      return logs.filter((l) => l.txHash !== left.txHash);
    }
    return logs;
  }
}

type Status = 'seen' | 'confirmed' | 'orphaned' | 'reorged_out';

/** The store's rules in memory: enough to watch the scanner's decisions (not the SQL's corner cases). */
class MemoryStore implements ScannerStore {
  readonly transfers = new Map<string, ObservedTransfer & { status: Status }>();
  readonly cps: BlockRef[] = [];

  private key = (t: Pick<TransferLog, 'txHash' | 'logIndex'>) => `${t.txHash}:${t.logIndex}`;

  statuses(): Status[] {
    return [...this.transfers.values()].sort((a, b) => Number(a.blockNumber - b.blockNumber)).map((t) => t.status);
  }

  async cursor(): Promise<BlockRef | null> {
    return this.cps.at(-1) ?? null;
  }

  async checkpoints(): Promise<BlockRef[]> {
    return [...this.cps].reverse();
  }

  async recordWindow(
    transfers: ObservedTransfer[],
    checkpoint: BlockRef,
    confirmedUpTo: bigint,
    messagesFor: (fresh: WindowResult) => unknown[],
  ): Promise<WindowResult> {
    const fresh: WindowResult = { seen: [], confirmed: [], duplicate: [], restored: [] };
    for (const t of transfers) {
      const known = this.transfers.get(this.key(t));
      const revisit =
        !known ||
        known.status === 'orphaned' ||
        known.status === 'reorged_out' ||
        (known.status === 'seen' && known.blockHash !== t.blockHash);
      if (!revisit) continue;
      const status = t.blockNumber > confirmedUpTo ? 'seen' : 'confirmed';
      this.transfers.set(this.key(t), { ...t, status });
      fresh[status].push(t);
    }
    messagesFor(fresh);
    const at = this.cps.findIndex((c) => c.number === checkpoint.number);
    if (at >= 0) this.cps.splice(at, 1);
    this.cps.push(checkpoint);
    return fresh;
  }

  async rewind(ancestor: BlockRef | null, startBlock: bigint) {
    const above = ancestor?.number ?? startBlock - 1n;
    let orphaned = 0;
    const reorged: ObservedTransfer[] = [];
    for (const t of this.transfers.values()) {
      if (t.blockNumber <= above) continue;
      if (t.status === 'seen') {
        t.status = 'orphaned';
        orphaned++;
      } else if (t.status === 'confirmed') {
        t.status = 'reorged_out';
        reorged.push(t);
      }
    }
    while (this.cps.length && this.cps.at(-1)!.number > above) this.cps.pop();
    return { orphaned, reorged };
  }

  async awaitingConfirmation(upTo: bigint): Promise<ObservedTransfer[]> {
    return [...this.transfers.values()].filter((t) => t.status === 'seen' && t.blockNumber <= upTo);
  }

  async confirm(transfers: ObservedTransfer[]) {
    const confirmed: ObservedTransfer[] = [];
    for (const t of transfers) {
      const known = this.transfers.get(this.key(t));
      if (known?.status === 'seen' && known.blockHash === t.blockHash) {
        known.status = 'confirmed';
        confirmed.push(t);
      }
    }
    return { confirmed, duplicate: [], restored: [] };
  }

  async orphan(transfers: ObservedTransfer[]): Promise<void> {
    for (const t of transfers) {
      const known = this.transfers.get(this.key(t));
      if (known?.status === 'seen') known.status = 'orphaned';
    }
  }
}

function scanner(chain: FakeChain, store: MemoryStore, settings: { confirmations?: number; maxWindow?: number } = {}) {
  return new DepositScanner(
    {
      token: TOKEN,
      systemWallet: SYSTEM,
      startBlock: 1n,
      confirmations: settings.confirmations ?? 3,
      useFinalized: false,
      maxWindow: settings.maxWindow ?? 1000,
    },
    {
      chain,
      store,
      resolveUsers: async (addresses) => new Map(addresses.map((a) => [a, '1'])),
      detectedMessages: () => [],
      confirmedMessages: () => [],
      reorgedMessages: () => [],
      onCommitted: () => undefined,
      log: rootLogger().child({ service: 'scanner-spec' }, { level: 'silent' }),
    },
  );
}

const usdt = (n: number) => BigInt(n) * 10n ** 18n;

describe('DepositScanner', () => {
  it('scans from the start block to the head in windows no wider than the maximum, confirming only at depth', async () => {
    const chain = new FakeChain();
    chain.mine(30, { 5: usdt(10), 12: usdt(20), 29: usdt(30) });
    const store = new MemoryStore();
    const result = await scanner(chain, store, { maxWindow: 10, confirmations: 3 }).tick();
    expect(chain.ranges.filter(([from]) => from >= 1n)).to.deep.equal([
      [1n, 10n],
      [11n, 20n],
      [21n, 30n],
    ]);
    expect(result).to.include({ head: 30n, scannedTo: 30n, seen: 3, confirmed: 2, reorg: false });
    expect(store.statuses()).to.deep.equal(['confirmed', 'confirmed', 'seen']);

    expect((await scanner(chain, store).tick()).confirmed).to.equal(0); // block 29 has 2 confirmations at head 30
    chain.mine(1);
    expect((await scanner(chain, store).tick()).confirmed).to.equal(1);
    expect(store.statuses()).to.deep.equal(['confirmed', 'confirmed', 'confirmed']);
  });

  it('halves the window while the provider refuses a range, and still finds every transfer', async () => {
    const chain = new FakeChain();
    chain.mine(40, { 3: usdt(1), 17: usdt(2), 33: usdt(3) });
    chain.maxRange = 5;
    const store = new MemoryStore();
    const result = await scanner(chain, store, { maxWindow: 32 }).tick();
    expect(result.seen).to.equal(3);
    expect(chain.ranges.every(([from, to]) => to - from + 1n <= 5n)).to.equal(true);
    expect((await store.cursor())!.number).to.equal(40n);
  });

  it('rewinds to the common ancestor after a reorg: orphans what left, finds the transfer in its new block', async () => {
    const chain = new FakeChain();
    chain.mine(10, { 8: usdt(50) });
    const store = new MemoryStore();
    await scanner(chain, store, { confirmations: 5 }).tick();
    expect(store.statuses()).to.deep.equal(['seen']);
    const moved = chain.logsAt(8)[0]!;

    chain.reorg(4, { 9: moved }); // blocks 7-10 replaced; the transaction lands in block 9
    const result = await scanner(chain, store, { confirmations: 5 }).tick();
    expect(result.reorg).to.equal(true);
    const [transfer] = store.transfers.values();
    expect(transfer).to.include({ status: 'seen', blockNumber: 9n, blockHash: chain.blocks[9]!.hash });

    chain.mine(5);
    await scanner(chain, store, { confirmations: 5 }).tick();
    expect(store.statuses()).to.deep.equal(['confirmed']);
  });

  it('marks a confirmed transfer reorged out when a reorg deeper than the confirmations takes its block', async () => {
    const chain = new FakeChain();
    chain.mine(10, { 4: usdt(70) });
    const store = new MemoryStore();
    await scanner(chain, store, { confirmations: 2 }).tick();
    expect(store.statuses()).to.deep.equal(['confirmed']);
    chain.reorg(8); // blocks 3-10 replaced, the transfer is gone
    expect((await scanner(chain, store, { confirmations: 2 }).tick()).reorg).to.equal(true);
    expect(store.statuses()).to.deep.equal(['reorged_out']);
  });

  it('takes neither a lagging provider nor a missing block for a reorg', async () => {
    const chain = new FakeChain();
    chain.mine(12, { 6: usdt(5) });
    const store = new MemoryStore();
    await scanner(chain, store, { confirmations: 3 }).tick();
    const cursor = await store.cursor();

    chain.lag = 4;
    let error = await scanner(chain, store)
      .tick()
      .catch((e: Error) => e);
    expect(String(error)).to.contain('behind the scanned block');
    chain.lag = 0;
    chain.missing.add(cursor!.number);
    error = await scanner(chain, store)
      .tick()
      .catch((e: Error) => e);
    expect(String(error)).to.contain('does not have block');
    chain.missing.clear();

    expect(await store.cursor()).to.deep.equal(cursor);
    expect(store.statuses()).to.deep.equal(['confirmed']);
  });

  it('orphans nothing when a confirmation re-read leaves out a log of a block that is still canonical', async () => {
    const chain = new FakeChain();
    chain.mine(10, { 9: usdt(8) });
    const store = new MemoryStore();
    await scanner(chain, store, { confirmations: 3 }).tick();
    expect(store.statuses()).to.deep.equal(['seen']);
    chain.mine(2);
    chain.omit = { txHash: chain.logsAt(9)[0]!.txHash, times: 1 };
    await scanner(chain, store, { confirmations: 3 }).tick();
    expect(store.statuses()).to.deep.equal(['seen']);
    await scanner(chain, store, { confirmations: 3 }).tick();
    expect(store.statuses()).to.deep.equal(['confirmed']);
  });
});
