// Scans USDT transfers to the system wallet from the stored cursor, survives reorgs, and confirms deposits.
// eth_getLogs over bounded windows is the source of truth; a faster head signal only triggers a tick sooner.
import type { Logger } from '../../lib/logger';
import type { OutboxMessage } from '../../lib/contracts';
import { RangeTooLargeError } from '../../lib/chain/rpc';
import type { BlockRef, Chain, TransferLog } from '../../lib/chain/reads';
import type { ObservedTransfer, TransferStore, WindowResult } from './store';

export interface ScannerSettings {
  token: string;
  systemWallet: string;
  startBlock: bigint;
  confirmations: number;
  useFinalized: boolean;
  maxWindow: number;
}

/** The chain reads the scanner uses (lib/chain's Chain, or a fake one in its specs). */
export type ScannerChain = Pick<Chain, 'headNumber' | 'block' | 'transfersTo'>;
/** What the scanner keeps (TransferStore on PostgreSQL, or an in-memory one in its specs). */
export type ScannerStore = Pick<
  TransferStore,
  'cursor' | 'checkpoints' | 'recordWindow' | 'rewind' | 'awaitingConfirmation' | 'confirm' | 'orphan'
>;

export interface ScannerDeps {
  chain: ScannerChain;
  store: ScannerStore;
  /** Registered wallet → user id; must throw (not return empty) when the owner of users cannot answer. */
  resolveUsers(addresses: string[]): Promise<Map<string, string>>;
  detectedMessages(fresh: ObservedTransfer[]): OutboxMessage[];
  confirmedMessages(matched: ObservedTransfer[]): OutboxMessage[];
  /** Announces confirmed transfers whose block left the chain (only matched ones concern anybody). */
  reorgedMessages(matched: ObservedTransfer[]): OutboxMessage[];
  onCommitted(): void;
  log: Logger;
}

export interface TickResult {
  head: bigint;
  scannedTo: bigint;
  seen: number;
  confirmed: number;
  reorg: boolean;
}

export class DepositScanner {
  private window: number;

  constructor(
    private readonly settings: ScannerSettings,
    private readonly deps: ScannerDeps,
  ) {
    this.window = settings.maxWindow;
  }

  /** One pass: check the cursor is still canonical, scan up to the head, confirm what has enough depth. */
  async tick(shouldStop: () => boolean = () => false): Promise<TickResult> {
    const { chain, store } = this.deps;
    const head = await chain.headNumber();
    let cursor = await store.cursor();
    let reorg = false;
    if (cursor) {
      // A provider that lags (or answers without the block) proves nothing about a reorg: try again later.
      if (head < cursor.number)
        throw new Error(`the provider's head ${head} is behind the scanned block ${cursor.number}`);
      const canonical = await chain.block(cursor.number);
      if (!canonical) throw new Error(`the provider does not have block ${cursor.number}, below its head ${head}`);
      if (canonical.hash !== cursor.hash) {
        reorg = true;
        cursor = await this.rewindToCommonAncestor();
      }
    }
    let next = cursor ? cursor.number + 1n : this.settings.startBlock;
    let seen = 0;
    let confirmed = 0;
    const depth = await this.confirmedDepth(head);
    while (next <= head && !shouldStop()) {
      const { logs, to, end } = await this.fetchWindow(next, head);
      const fresh = await store.recordWindow(await this.withOwners(logs), end, depth, this.announce);
      if (fresh.seen.length + fresh.confirmed.length + fresh.restored.length) this.deps.onCommitted();
      this.reportRestored(fresh.restored);
      this.reportDuplicates(fresh.duplicate);
      seen += fresh.seen.length + fresh.confirmed.length;
      confirmed += fresh.confirmed.length;
      next = to + 1n;
    }
    for (;;) {
      const batch = await this.confirm(depth);
      confirmed += batch.confirmed;
      if (!batch.more) break;
    }
    return { head, scannedTo: next - 1n, seen, confirmed, reorg };
  }

  /** The highest block whose transfers count as confirmed: `confirmations` deep, or finalized. */
  private async confirmedDepth(head: bigint): Promise<bigint> {
    if (this.settings.useFinalized) return (await this.deps.chain.block('finalized'))?.number ?? -1n;
    return head - BigInt(this.settings.confirmations) + 1n;
  }

  /** New transfers still awaiting depth are announced as detected; ones already deep enough (catch-up) as confirmed. */
  private readonly announce = (fresh: WindowResult) => [
    ...this.deps.detectedMessages(fresh.seen),
    ...this.deps.confirmedMessages([...fresh.confirmed, ...fresh.restored].filter((t) => t.userId !== null)),
  ];

  private readonly announceReorged = (reorged: ObservedTransfer[]) =>
    this.deps.reorgedMessages(reorged.filter((t) => t.userId !== null));

  /**
   * Reads one window of logs from `from`, halving the window while the provider refuses the range. The window's
   * end block is read before and after the logs: if it changed, the logs may come from another fork (or a node
   * that lags), so the window is read again.
   */
  private async fetchWindow(from: bigint, limit: bigint): Promise<{ logs: TransferLog[]; to: bigint; end: BlockRef }> {
    const { chain, log } = this.deps;
    for (let attempt = 1; ; attempt++) {
      const to = minBig(from + BigInt(this.window) - 1n, limit);
      const before = await chain.block(to);
      if (!before) throw new Error(`the provider does not have block ${to} yet`);
      let logs: TransferLog[];
      try {
        logs = await chain.transfersTo(this.settings.token, this.settings.systemWallet, from, to);
      } catch (error) {
        if (!(error instanceof RangeTooLargeError) || this.window === 1) throw error;
        this.window = Math.max(1, Math.floor(this.window / 2));
        log.warn({ window: this.window }, 'provider refused the log range; shrinking the window');
        continue;
      }
      const after = await chain.block(to);
      if (after?.hash !== before.hash || logs.some((l) => l.blockNumber < from || l.blockNumber > to)) {
        if (attempt >= 5) throw new Error(`block ${to} keeps changing while its logs are read`);
        log.warn({ block: to.toString() }, 'the chain moved while reading a window; reading it again');
        continue;
      }
      if (this.window < this.settings.maxWindow) this.window = Math.min(this.settings.maxWindow, this.window * 2);
      return { logs: logs.filter((l) => l.amount > 0n), to, end: before };
    }
  }

  private async withOwners(logs: TransferLog[]): Promise<ObservedTransfer[]> {
    if (logs.length === 0) return [];
    const owners = await this.deps.resolveUsers([...new Set(logs.map((t) => t.from))]);
    return logs.map((t) => ({ ...t, userId: owners.get(t.from) ?? null }));
  }

  /**
   * Confirms deposits whose block is deep enough (or finalized). The logs of that range are read again, so a
   * transfer is confirmed only if the canonical chain still has it in the block it was seen in.
   */
  private async confirm(depth: bigint): Promise<{ confirmed: number; more: boolean }> {
    const { store } = this.deps;
    if (depth < 0n) return { confirmed: 0, more: false };
    const ready = await store.awaitingConfirmation(depth, CONFIRM_BATCH);
    if (ready.length === 0) return { confirmed: 0, more: false };

    const last = ready[ready.length - 1]!.blockNumber;
    const current = new Map<string, TransferLog>();
    for (let from = ready[0]!.blockNumber; from <= last;) {
      const { logs, to } = await this.fetchWindow(from, last);
      for (const log of logs) current.set(`${log.txHash}:${log.logIndex}`, log);
      from = to + 1n;
    }
    const canonical: ObservedTransfer[] = [];
    const stale: ObservedTransfer[] = [];
    let unproven = 0;
    const hashAt = new Map<bigint, string | undefined>();
    for (const transfer of ready) {
      const key = `${transfer.txHash}:${transfer.logIndex}`;
      if (current.get(key)?.blockHash === transfer.blockHash) {
        canonical.push(transfer);
        current.delete(key);
        continue;
      }
      // Missing from the re-read: orphan it only if its block is provably gone, since one inconsistent answer
      // from a lagging node must not drop a real deposit.
      if (!hashAt.has(transfer.blockNumber))
        hashAt.set(transfer.blockNumber, (await this.deps.chain.block(transfer.blockNumber))?.hash);
      const hash = hashAt.get(transfer.blockNumber);
      if (hash === undefined || hash === transfer.blockHash) unproven++;
      else stale.push(transfer);
    }
    if (unproven)
      this.deps.log.warn({ count: unproven }, 'the provider left out logs of canonical blocks; confirming them later');
    if (stale.length) {
      // Their blocks were replaced: rescan from just below the lowest of them, so their new home is found.
      const lowest = stale.reduce((min, t) => (t.blockNumber < min ? t.blockNumber : min), stale[0]!.blockNumber);
      const below = lowest - 1n < this.settings.startBlock ? null : await this.deps.chain.block(lowest - 1n);
      if (below === null && lowest - 1n >= this.settings.startBlock)
        throw new Error(`the provider does not have block ${lowest - 1n}; not rewinding past it`);
      await store.orphan(stale);
      const { reorged } = await store.rewind(below, this.settings.startBlock, this.announceReorged);
      this.reportReorged(reorged);
      this.deps.log.warn(
        { count: stale.length, from_block: lowest.toString() },
        'transfers awaiting confirmation left their block; rescanning',
      );
    }
    // Transfers this range holds that the scan missed (the chain moved under it) are recorded as seen.
    const missed = [...current.values()];
    if (missed.length) {
      const cursor = await store.cursor();
      if (cursor) await store.recordWindow(await this.withOwners(missed), cursor, -1n, this.announce);
    }
    const unmatched = canonical.filter((t) => t.userId === null);
    if (unmatched.length) {
      // A wallet registered after it sent its deposit still gets credited.
      const owners = await this.deps.resolveUsers([...new Set(unmatched.map((t) => t.from))]);
      for (const t of unmatched) t.userId = owners.get(t.from) ?? null;
    }
    const { confirmed, duplicate, restored } = await store.confirm(canonical, this.deps.confirmedMessages);
    const count = confirmed.length;
    if (count + restored.length) this.deps.onCommitted();
    this.reportDuplicates(duplicate);
    this.reportRestored(restored);
    for (const t of confirmed.filter((t) => t.userId === null)) {
      this.deps.log.warn(
        { tx_hash: t.txHash, log_index: t.logIndex, from: t.from },
        'confirmed transfer from an unregistered wallet kept as unmatched',
      );
    }
    return { confirmed: count, more: ready.length === CONFIRM_BATCH && stale.length + count > 0 };
  }

  private reportDuplicates(duplicates: ObservedTransfer[]): void {
    for (const t of duplicates) {
      this.deps.log.warn(
        { tx_hash: t.txHash, log_index: t.logIndex, from: t.from },
        'transaction already confirmed under another log index (mined again after a deep reorg): not credited again',
      );
    }
  }

  private reportReorged(reorged: ObservedTransfer[]): void {
    for (const t of reorged) {
      this.deps.log.error(
        { tx_hash: t.txHash, log_index: t.logIndex, block: t.blockNumber.toString(), user_id: t.userId },
        'a confirmed transfer left the chain (a reorg deeper than the confirmations): reorged out until mined again',
      );
    }
  }

  private reportRestored(restored: ObservedTransfer[]): void {
    for (const t of restored) {
      this.deps.log.warn(
        { tx_hash: t.txHash, log_index: t.logIndex, block: t.blockNumber.toString() },
        'a reorged-out transfer is on the chain again',
      );
    }
  }

  /** Walks the stored checkpoints back to the newest one still on the canonical chain and rewinds to it. */
  private async rewindToCommonAncestor(): Promise<BlockRef | null> {
    const { chain, store, log } = this.deps;
    let ancestor: BlockRef | null = null;
    for (const checkpoint of await store.checkpoints()) {
      const canonical = await chain.block(checkpoint.number);
      if (!canonical) throw new Error(`the provider does not have block ${checkpoint.number}; not rewinding past it`);
      if (canonical.hash === checkpoint.hash) {
        ancestor = checkpoint;
        break;
      }
    }
    const { orphaned, reorged } = await store.rewind(ancestor, this.settings.startBlock, this.announceReorged);
    const at = ancestor?.number ?? this.settings.startBlock - 1n;
    log.warn(
      { ancestor: at.toString(), orphaned, reorged_out: reorged.length },
      'chain reorganised; rescanning from the common ancestor',
    );
    this.reportReorged(reorged);
    if (reorged.length) this.deps.onCommitted();
    return ancestor;
  }
}

const CONFIRM_BATCH = 2000;
const minBig = (a: bigint, b: bigint) => (a < b ? a : b);
