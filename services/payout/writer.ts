// The one writer of the hot wallet. Each tick it renews its lease on the wallet row (or stands by while another
// replica holds it), signs queued payouts under fresh nonces, broadcasts what is signed, and follows every payout
// holding a nonce until a receipt at the configured depth decides it.
//
// The rules that make a payout happen once:
// - the signed transaction is stored (with its nonce, in the transaction that takes the nonce) before any broadcast,
//   and after a crash the same bytes are sent again; a payout is never signed under a second nonce while its first
//   could still be mined (only a reverted transfer, final on chain, frees it for a new one);
// - a node's "already known", "nonce too low" or "underpriced" says nothing for sure: the payout is sent, and its
//   receipts decide. If the nonce is spent at the final block and no attempt of the payout has a receipt, another
//   transaction took it: the payout goes to admin review and is never marked paid;
// - a payout stuck for PAYOUT_STUCK_BLOCKS at the wallet's next nonce is replaced at the same nonce with at least
//   12.5% more gas price; every attempt is kept and watched, since any of them may be the one mined;
// - paid only on a successful receipt at the depth (or under BSC's finalized tag); a receipt that a reorg removes
//   is simply gone on the next look, and the stored bytes are broadcast again.
import { Interface, Transaction, type Wallet } from 'ethers';
import pMap from 'p-map';
import type { Chain, Receipt } from '../../lib/chain/reads';
import { RpcAnswerError } from '../../lib/chain/rpc';
import { failpoint } from '../../lib/failpoints';
import type { Logger } from '../../lib/logger';
import { displayAmount } from '../../lib/money';
import { payoutMessages } from './messages';
import { PayoutStateError, type Attempt, type Payout, type PayoutStore, type RetryPolicy } from './store';

const ERC20 = new Interface(['function transfer(address to, uint256 amount) returns (bool)']);

/**
 * RPC calls in flight at once for broadcasts and receipt reads: a batch of fresh payouts reaches the node in a
 * fraction of the time one-by-one takes, and a node may take a later nonce before an earlier one (it queues it).
 */
const RPC_CONCURRENCY = 16;
const FOLLOW_AT_LEAST_EVERY_MS = 1_000;
/** Payouts settled at once: below the pool's 10 connections, so the consumers keep one. */
const DB_CONCURRENCY = 6;

/** The replacement rule of geth-based nodes (BSC's included) wants 10%; 12.5% leaves room for rounding. */
const REPLACEMENT_BUMP_NUM = 1125n;
const REPLACEMENT_BUMP_DEN = 1000n;

/** Node answers that leave the transaction's fate open: it may be in the pool, mined, or beaten by another. */
const UNKNOWN_OUTCOME =
  /already known|already imported|known transaction|already exists|nonce too low|nonce has already been used|underpriced/i;

export interface WriterOptions {
  signer: Wallet;
  token: string;
  chainId: number;
  decimals: number;
  gasLimit: bigint;
  minGasPrice: bigint;
  maxGasPrice: bigint;
  stuckBlocks: number;
  confirmations: number;
  useFinalized: boolean;
  batchSize: number;
  leaseMs: number;
  retry: RetryPolicy;
  lowUsdt: bigint;
  lowBnb: bigint;
}

export interface WriterPorts {
  chain: Chain;
  store: PayoutStore;
  log: Logger;
  /** Something was written to the outbox. */
  onCommitted(): void;
}

export interface TickSummary {
  role: 'writer' | 'standby';
  head?: string;
  signed: number;
  broadcast: number;
  replaced: number;
  paid: number;
  failed: number;
  review: number;
}

/** The least gas price a replacement may offer: 12.5% more, rounded up. */
export const bumped = (price: bigint) =>
  (price * REPLACEMENT_BUMP_NUM + REPLACEMENT_BUMP_DEN - 1n) / REPLACEMENT_BUMP_DEN;

export class PayoutWriter {
  readonly address: string;
  /** When each attempt was last broadcast (block), so a dropped one is sent again without flooding the node. */
  private readonly lastSent = new Map<string, bigint>();
  private lastFollowed = 0;

  constructor(
    private readonly options: WriterOptions,
    private readonly ports: WriterPorts,
  ) {
    this.address = options.signer.address;
  }

  async tick(): Promise<TickSummary> {
    const { chain, store } = this.ports;
    const summary: TickSummary = {
      role: 'standby',
      signed: 0,
      broadcast: 0,
      replaced: 0,
      paid: 0,
      failed: 0,
      review: 0,
    };
    const holding = await store.holdWallet(this.address, this.options.leaseMs, () =>
      chain.nonceAt(this.address, 'pending'),
    );
    if (!holding) {
      this.lastSent.clear();
      return summary;
    }
    summary.role = 'writer';
    const head = await chain.headNumber();
    summary.head = head.toString();
    await this.signQueued(head, summary);
    // While full batches keep coming, signing goes first (receipts take blocks anyway), but following never waits
    // longer than FOLLOW_AT_LEAST_EVERY_MS.
    const busy = summary.signed >= this.options.batchSize;
    if (!busy || Date.now() - this.lastFollowed >= FOLLOW_AT_LEAST_EVERY_MS) {
      this.lastFollowed = Date.now();
      await this.follow(head, summary);
    }
    return summary;
  }

  async release(): Promise<void> {
    await this.ports.store.releaseWallet(this.address);
  }

  // ---- Signing --------------------------------------------------------------------------------------------------

  private async gasPrice(): Promise<bigint> {
    const offered = await this.ports.chain.gasPrice();
    const floor = offered > this.options.minGasPrice ? offered : this.options.minGasPrice;
    return floor > this.options.maxGasPrice ? this.options.maxGasPrice : floor;
  }

  private async signTransfer(payout: Payout, nonce: bigint, gasPrice: bigint) {
    const tx = Transaction.from({
      type: 0,
      chainId: this.options.chainId,
      nonce: Number(nonce),
      to: this.options.token,
      gasLimit: this.options.gasLimit,
      gasPrice,
      value: 0n,
      data: ERC20.encodeFunctionData('transfer', [payout.destination, BigInt(payout.amount)]),
    });
    const rawTx = await this.options.signer.signTransaction(tx);
    return { rawTx, txHash: Transaction.from(rawTx).hash!.toLowerCase(), gasPrice };
  }

  /**
   * Queued payouts that the hot wallet can cover (tokens and gas beyond what signed payouts still owe) get nonces;
   * the others count a failed try, retried later, since a nonce handed to a transfer that cannot succeed would hold
   * up every payout behind it.
   */
  private async signQueued(head: bigint, summary: TickSummary): Promise<void> {
    const { chain, store, log } = this.ports;
    const queued = await store.queued(this.options.batchSize);
    if (queued.length === 0) return;
    const [tokens, bnb, gasPrice, owed] = await Promise.all([
      chain.tokenBalance(this.options.token, this.address),
      chain.balance(this.address),
      this.gasPrice(),
      store.inFlight(this.address),
    ]);
    await this.warnIfLow(tokens, bnb);
    const gasEach = this.options.gasLimit * gasPrice;
    let spendableTokens = tokens - owed.amount;
    let spendableGas = bnb - BigInt(owed.count) * gasEach;
    const covered: Payout[] = [];
    for (const payout of queued) {
      const amount = BigInt(payout.amount);
      if (amount <= spendableTokens && gasEach <= spendableGas) {
        covered.push(payout);
        spendableTokens -= amount;
        spendableGas -= gasEach;
        continue;
      }
      const reason =
        amount > spendableTokens
          ? `the hot wallet holds too little USDT (${displayAmount(tokens, this.options.decimals)}, ` +
            `${displayAmount(owed.amount, this.options.decimals)} of it owed to signed payouts)`
          : `the hot wallet holds too little BNB for gas (${displayAmount(bnb, 18)})`;
      await this.failed(payout, reason, { from: ['queued'] }, summary);
    }
    if (covered.length === 0) return;
    const signed = await store.assignAndSign(
      this.address,
      covered.map((p) => p.withdrawalId),
      (payout, nonce) => this.signTransfer(payout, nonce, gasPrice),
      () => failpoint('payout:nonce-assigned'),
    );
    failpoint('payout:signed-stored');
    summary.signed += signed.length;
    for (const { payout, attempt } of signed)
      log.info(
        { withdrawal_id: payout.withdrawalId, nonce: attempt.nonce.toString(), tx_hash: attempt.txHash },
        'payout signed and stored',
      );
    const taken = await pMap(signed, ({ payout, attempt }) => this.send(payout, attempt, head, summary), {
      concurrency: RPC_CONCURRENCY,
    });
    await this.recordSent(
      signed.filter((_, i) => taken[i]),
      head,
      summary,
    );
  }

  private async warnIfLow(tokens: bigint, bnb: bigint): Promise<void> {
    const hour = new Date().toISOString().slice(0, 13);
    const alerts = [
      ...(tokens < this.options.lowUsdt
        ? payoutMessages.walletLow(
            'USDT',
            displayAmount(tokens, this.options.decimals),
            displayAmount(this.options.lowUsdt, this.options.decimals),
            hour,
          )
        : []),
      ...(bnb < this.options.lowBnb
        ? payoutMessages.walletLow('BNB', displayAmount(bnb, 18), displayAmount(this.options.lowBnb, 18), hour)
        : []),
    ];
    if (alerts.length === 0) return;
    await this.ports.store.alert(alerts);
    this.ports.onCommitted();
  }

  // ---- Broadcasting ---------------------------------------------------------------------------------------------

  /** Broadcasts one attempt and records it sent. */
  private async broadcast(payout: Payout, attempt: Attempt, head: bigint, summary: TickSummary): Promise<void> {
    if (await this.send(payout, attempt, head, summary)) await this.recordSent([{ payout, attempt }], head, summary);
  }

  /** Hands the stored bytes to a node; true when the payout counts as sent (the node took it, or may have). */
  private async send(payout: Payout, attempt: Attempt, head: bigint, summary: TickSummary): Promise<boolean> {
    const { chain, log } = this.ports;
    this.lastSent.set(attempt.txHash, head);
    try {
      await chain.sendRawTransaction(attempt.rawTx);
    } catch (error) {
      if (!(error instanceof RpcAnswerError)) {
        // The providers are away: the bytes are stored, the next tick sends them again.
        log.warn({ withdrawal_id: payout.withdrawalId, err: error }, 'payout broadcast failed; will send it again');
        return false;
      }
      if (!UNKNOWN_OUTCOME.test(error.message)) {
        // Refused for good as it stands (too little gas, say): tried again later with the same bytes.
        if (payout.status === 'signed') await this.failed(payout, error.message, { from: ['signed'] }, summary);
        else log.warn({ withdrawal_id: payout.withdrawalId, error: error.message }, 'payout rebroadcast refused');
        return false;
      }
      log.info(
        { withdrawal_id: payout.withdrawalId, tx_hash: attempt.txHash, answer: error.message },
        'payout broadcast answered ambiguously; its receipts will tell',
      );
    }
    return true;
  }

  private async recordSent(
    sent: readonly { payout: Payout; attempt: Attempt }[],
    head: bigint,
    summary: TickSummary,
  ): Promise<void> {
    if (sent.length === 0) return;
    failpoint('payout:broadcast');
    await this.ports.store.markSentMany(sent, head);
    this.ports.onCommitted();
    failpoint('payout:recorded');
    summary.broadcast += sent.length;
  }

  // ---- Following ------------------------------------------------------------------------------------------------

  /** The receipt of the newest attempt that has one (any attempt may be the one mined). */
  private async receiptOf(attempts: readonly Attempt[]): Promise<{ attempt: Attempt; receipt: Receipt } | undefined> {
    for (const attempt of [...attempts].reverse()) {
      const receipt = await this.ports.chain.receipt(attempt.txHash);
      if (receipt) return { attempt, receipt };
    }
    return undefined;
  }

  private async finalBlock(head: bigint): Promise<bigint> {
    if (!this.options.useFinalized) return head - BigInt(this.options.confirmations) + 1n;
    return (await this.ports.chain.block('finalized'))?.number ?? -1n;
  }

  private async follow(head: bigint, summary: TickSummary): Promise<void> {
    const { chain, store } = this.ports;
    const open = await store.unresolved(this.address);
    if (open.length === 0) return;
    const final = await this.finalBlock(head);
    // Read once per tick: how many nonces are spent at the final block, and at the head.
    let spentAtFinal: bigint | undefined;
    let spentAtHead: bigint | undefined;
    // Receipts are read side by side; what they mean is decided one payout after another.
    const receipts = await pMap(open, ({ attempts }) => this.receiptOf(attempts), { concurrency: RPC_CONCURRENCY });
    // Sent again side by side after the pass: each is only "here it is once more" to the node.
    const resends: [Payout, Attempt][] = [];
    // Payouts with a receipt are decided side by side too; those paid are recorded in one transaction.
    const settles: [Payout, { attempt: Attempt; receipt: Receipt }][] = [];
    for (const [index, { payout, attempts }] of open.entries()) {
      if (attempts.length === 0) continue;
      const mined = receipts[index];
      if (mined) {
        settles.push([payout, mined]);
        continue;
      }
      spentAtFinal ??= final >= 0n ? await chain.nonceAt(this.address, final) : 0n;
      if (payout.nonce! < spentAtFinal) {
        await store.markReview(
          payout,
          `nonce ${payout.nonce} was spent by a transaction that is none of this payout's ${attempts.length} attempts`,
        );
        this.ports.onCommitted();
        summary.review++;
        this.ports.log.error(
          { withdrawal_id: payout.withdrawalId, nonce: payout.nonce!.toString() },
          'payout to review',
        );
        continue;
      }
      const latest = attempts[attempts.length - 1]!;
      if (payout.status === 'signed') {
        await this.broadcast(payout, latest, head, summary);
        continue;
      }
      spentAtHead ??= await chain.nonceAt(this.address, 'latest');
      const waiting = latest.broadcastBlock === null ? 0n : head - latest.broadcastBlock;
      if (payout.nonce === spentAtHead && waiting >= BigInt(this.options.stuckBlocks)) {
        if (await this.replace(payout, latest, head, summary)) continue;
      }
      if (head - (this.lastSent.get(latest.txHash) ?? -1n) >= 2n) resends.push([payout, latest]);
    }
    const paid = await pMap(settles, ([payout, mined]) => this.settle(payout, mined, final, head, summary), {
      concurrency: DB_CONCURRENCY,
    });
    await this.recordPaid(
      paid.filter((p) => p !== undefined),
      summary,
    );
    await pMap(resends, ([payout, attempt]) => this.resend(payout, attempt, head), { concurrency: RPC_CONCURRENCY });
  }

  /** Decides a payout that has a receipt; a success at the final block is answered to be recorded paid in bulk. */
  private async settle(
    payout: Payout,
    { attempt, receipt }: { attempt: Attempt; receipt: Receipt },
    final: bigint,
    head: bigint,
    summary: TickSummary,
  ): Promise<{ payout: Payout; txHash: string; blockNumber: bigint } | undefined> {
    const { store } = this.ports;
    if (receipt.blockNumber > final) {
      if (payout.status === 'signed') await store.markSent(payout, attempt, head);
      return undefined;
    }
    failpoint('payout:receipt-seen');
    if (receipt.succeeded) return { payout, txHash: receipt.txHash, blockNumber: receipt.blockNumber };
    // Reverted, final: the nonce is spent and nothing moved; the next try takes a new nonce.
    await this.failed(
      payout,
      `the transfer ${receipt.txHash} reverted on chain`,
      { from: ['signed', 'sent'], releaseNonce: true },
      summary,
    );
    return undefined;
  }

  private async recordPaid(
    paid: readonly { payout: Payout; txHash: string; blockNumber: bigint }[],
    summary: TickSummary,
  ): Promise<void> {
    if (paid.length === 0) return;
    const now = await this.ports.store.markPaidMany(paid);
    if (now.size === 0) return;
    failpoint('payout:paid-recorded');
    this.ports.onCommitted();
    summary.paid += now.size;
    for (const p of paid)
      if (now.has(p.payout.withdrawalId))
        this.ports.log.info(
          { withdrawal_id: p.payout.withdrawalId, tx_hash: p.txHash, block: p.blockNumber.toString() },
          'payout paid',
        );
  }

  private async replace(payout: Payout, latest: Attempt, head: bigint, summary: TickSummary): Promise<boolean> {
    const { store, log } = this.ports;
    const current = await this.gasPrice();
    const wanted = bumped(latest.gasPrice);
    const price = current > wanted ? current : wanted;
    if (price > this.options.maxGasPrice) {
      log.warn(
        { withdrawal_id: payout.withdrawalId, gas_price: latest.gasPrice.toString() },
        'payout stuck, but a replacement would pass PAYOUT_MAX_GAS_PRICE_GWEI',
      );
      return false;
    }
    const tx = await this.signTransfer(payout, payout.nonce!, price);
    const attempt = await store.addAttempt(payout, tx);
    log.warn(
      {
        withdrawal_id: payout.withdrawalId,
        nonce: payout.nonce!.toString(),
        from_gas_price: latest.gasPrice.toString(),
        gas_price: price.toString(),
        tx_hash: attempt.txHash,
      },
      'payout stuck; replaced with more gas price at the same nonce',
    );
    summary.replaced++;
    await this.broadcast({ ...payout, status: 'sent' }, attempt, head, summary);
    return true;
  }

  /** The node may have dropped it (a reorg, an evicting pool): the same bytes again; any answer is fine. */
  private async resend(payout: Payout, attempt: Attempt, head: bigint): Promise<void> {
    this.lastSent.set(attempt.txHash, head);
    try {
      await this.ports.chain.sendRawTransaction(attempt.rawTx);
    } catch (error) {
      if (error instanceof RpcAnswerError && UNKNOWN_OUTCOME.test(error.message)) return;
      this.ports.log.warn({ withdrawal_id: payout.withdrawalId, err: error }, 'payout rebroadcast failed');
    }
  }

  private async failed(
    payout: Payout,
    reason: string,
    options: { from: Payout['status'][]; releaseNonce?: boolean },
    summary: TickSummary,
  ): Promise<void> {
    try {
      const outcome = await this.ports.store.fail(payout, reason, this.options.retry, options);
      this.ports.onCommitted();
      summary.failed++;
      this.ports.log.warn(
        { withdrawal_id: payout.withdrawalId, reason, outcome },
        outcome === 'dead' ? 'payout dead after its retries; admins told' : 'payout failed; retry scheduled',
      );
    } catch (error) {
      if (!(error instanceof PayoutStateError)) throw error;
    }
  }
}
