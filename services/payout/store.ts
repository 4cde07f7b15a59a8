// The payout service's tables: payouts (one per approved withdrawal), their signed attempts, the hot wallet's nonce
// and writer lease, and payment_retries. Every state change that others must hear of is written with its outbox
// messages in one transaction.
import type pg from 'pg';
import type { OutboxMessage } from '../../lib/contracts';
import { inTransaction } from '../../lib/db';
import { enqueue } from '../../lib/outbox';
import { payoutMessages, type PayoutRef } from './messages';

export const PAYOUT_OUTBOX = 'payout_outbox';

export type PayoutStatus =
  'queued' | 'signed' | 'sent' | 'paid' | 'simulated' | 'retrying' | 'dead' | 'review' | 'cancelled';

export interface Payout extends PayoutRef {
  status: PayoutStatus;
  wallet: string | null;
  nonce: bigint | null;
  txHash: string | null;
  blockNumber: bigint | null;
  lastError: string | null;
  retries: number;
}

export interface Attempt {
  id: string;
  withdrawalId: string;
  nonce: bigint;
  gasPrice: bigint;
  rawTx: string;
  txHash: string;
  broadcastBlock: bigint | null;
}

interface PayoutRow {
  withdrawal_id: string;
  user_id: string;
  destination: string;
  amount: string;
  status: PayoutStatus;
  wallet: string | null;
  nonce: string | null;
  tx_hash: string | null;
  block_number: string | null;
  last_error: string | null;
  retries: number | null;
}

const PAYOUT_COLUMNS = `p.withdrawal_id::text, p.user_id::text, p.destination, p.amount::text, p.status, p.wallet,
  p.nonce::text, p.tx_hash, p.block_number::text, p.last_error, r.attempts AS retries`;
const FROM_PAYOUTS = 'payouts p LEFT JOIN payment_retries r ON r.withdrawal_id = p.withdrawal_id';

const toPayout = (row: PayoutRow): Payout => ({
  withdrawalId: row.withdrawal_id,
  userId: row.user_id,
  destination: row.destination,
  amount: row.amount,
  status: row.status,
  wallet: row.wallet,
  nonce: row.nonce === null ? null : BigInt(row.nonce),
  txHash: row.tx_hash,
  blockNumber: row.block_number === null ? null : BigInt(row.block_number),
  lastError: row.last_error,
  retries: row.retries ?? 0,
});

interface AttemptRow {
  id: string;
  withdrawal_id: string;
  nonce: string;
  gas_price: string;
  raw_tx: string;
  tx_hash: string;
  broadcast_block: string | null;
}
const toAttempt = (row: AttemptRow): Attempt => ({
  id: row.id,
  withdrawalId: row.withdrawal_id,
  nonce: BigInt(row.nonce),
  gasPrice: BigInt(row.gas_price),
  rawTx: row.raw_tx,
  txHash: row.tx_hash,
  broadcastBlock: row.broadcast_block === null ? null : BigInt(row.broadcast_block),
});

/** The payout's refusal, for admins' actions on it. */
export class PayoutStateError extends Error {
  constructor(
    message: string,
    readonly status: PayoutStatus | null,
  ) {
    super(message);
  }
}

export class PayoutStore {
  constructor(
    readonly pool: pg.Pool,
    /** Whoever holds the wallet lease: this process's unique id. */
    readonly writerId: string,
  ) {}

  /**
   * Takes an approved withdrawal once. In DRY_RUN it is stored as simulated and its completion announced in the same
   * transaction; a payout that exists (or was cancelled before its approval arrived) is left alone.
   */
  async intake(p: PayoutRef, dryRun: boolean): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `INSERT INTO payouts (withdrawal_id, user_id, destination, amount, status) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (withdrawal_id) DO NOTHING`,
        [p.withdrawalId, p.userId, p.destination, p.amount, dryRun ? 'simulated' : 'queued'],
      );
      if (rowCount === 1 && dryRun) await enqueue(client, PAYOUT_OUTBOX, payoutMessages.simulated(p));
      return rowCount === 1;
    });
  }

  async find(withdrawalId: string): Promise<Payout | undefined> {
    const { rows } = await this.pool.query<PayoutRow>(
      `SELECT ${PAYOUT_COLUMNS} FROM ${FROM_PAYOUTS} WHERE p.withdrawal_id = $1`,
      [withdrawalId],
    );
    return rows[0] && toPayout(rows[0]);
  }

  async counts(): Promise<Record<string, number>> {
    const { rows } = await this.pool.query<{ status: string; n: number }>(
      'SELECT status, COUNT(*)::int AS n FROM payouts GROUP BY status',
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  // ---- The wallet lease and nonce ---------------------------------------------------------------------------------

  /**
   * Takes or renews the writer lease of the wallet row. A new holder (first start or take-over) moves next_nonce up to
   * the chain's count if the wallet sent something the books do not know, so no nonce is ever offered twice.
   */
  async holdWallet(wallet: string, leaseMs: number, chainNonce: () => Promise<bigint>): Promise<boolean> {
    const renewed = await this.pool.query(
      `UPDATE payout_wallets SET lease_until = now() + $3 * interval '1 millisecond', updated_at = now()
       WHERE address = $1 AND lease_holder = $2 AND lease_until > now()`,
      [wallet, this.writerId, leaseMs],
    );
    if (renewed.rowCount === 1) return true;
    const onChain = await chainNonce();
    const { rowCount } = await this.pool.query(
      `INSERT INTO payout_wallets (address, next_nonce, lease_holder, lease_until)
       VALUES ($1, $4, $2, now() + $3 * interval '1 millisecond')
       ON CONFLICT (address) DO UPDATE SET lease_holder = EXCLUDED.lease_holder, lease_until = EXCLUDED.lease_until,
         next_nonce = GREATEST(payout_wallets.next_nonce, EXCLUDED.next_nonce), updated_at = now()
       WHERE payout_wallets.lease_holder IS NULL OR payout_wallets.lease_holder = $2
         OR payout_wallets.lease_until <= now()`,
      [wallet, this.writerId, leaseMs, onChain.toString()],
    );
    return rowCount === 1;
  }

  async releaseWallet(wallet: string): Promise<void> {
    await this.pool.query(
      'UPDATE payout_wallets SET lease_holder = NULL, lease_until = NULL WHERE address = $1 AND lease_holder = $2',
      [wallet, this.writerId],
    );
  }

  async walletState(wallet: string): Promise<{ nextNonce: bigint; leaseHolder: string | null } | undefined> {
    const { rows } = await this.pool.query<{ next_nonce: string; lease_holder: string | null; live: boolean }>(
      'SELECT next_nonce::text, lease_holder, lease_until > now() AS live FROM payout_wallets WHERE address = $1',
      [wallet],
    );
    const row = rows[0];
    return row && { nextNonce: BigInt(row.next_nonce), leaseHolder: row.live ? row.lease_holder : null };
  }

  /** What the payouts holding a nonce still owe: their tokens and their gas must stay in the wallet. */
  async inFlight(wallet: string): Promise<{ count: number; amount: bigint }> {
    const { rows } = await this.pool.query<{ n: number; total: string }>(
      `SELECT COUNT(*)::int AS n, COALESCE(SUM(amount), 0)::text AS total FROM payouts
       WHERE wallet = $1 AND nonce IS NOT NULL AND status IN ('signed', 'sent', 'retrying', 'dead')`,
      [wallet],
    );
    return { count: rows[0]!.n, amount: BigInt(rows[0]!.total) };
  }

  async queued(limit: number): Promise<Payout[]> {
    const { rows } = await this.pool.query<PayoutRow>(
      `SELECT ${PAYOUT_COLUMNS} FROM ${FROM_PAYOUTS} WHERE p.status = 'queued' ORDER BY p.withdrawal_id LIMIT $1`,
      [limit],
    );
    return rows.map(toPayout);
  }

  /**
   * Assigns the next nonces to queued payouts and stores each signed transaction, all in one transaction that holds
   * the wallet row: no gap (a payout that is no longer queued takes no nonce), no reuse (the row is the counter, and
   * UNIQUE (wallet, nonce) stands behind it). Refused unless this writer holds the lease: a writer that lost it
   * cannot assign.
   */
  async assignAndSign(
    wallet: string,
    withdrawalIds: readonly string[],
    sign: (payout: Payout, nonce: bigint) => Promise<{ rawTx: string; txHash: string; gasPrice: bigint }>,
    beforeCommit: () => void = () => undefined,
  ): Promise<{ payout: Payout; attempt: Attempt }[]> {
    return inTransaction(this.pool, async (client) => {
      const held = await client.query<{ next_nonce: string }>(
        `SELECT next_nonce::text FROM payout_wallets WHERE address = $1 AND lease_holder = $2 AND lease_until > now()
         FOR UPDATE`,
        [wallet, this.writerId],
      );
      if (!held.rows[0]) return [];
      let nonce = BigInt(held.rows[0].next_nonce);
      const { rows } = await client.query<PayoutRow>(
        `SELECT ${PAYOUT_COLUMNS} FROM ${FROM_PAYOUTS} WHERE p.withdrawal_id = ANY($1::bigint[]) AND p.status = 'queued'
         ORDER BY p.withdrawal_id FOR UPDATE OF p`,
        [withdrawalIds],
      );
      // Signed in memory, then stored with one statement per table: the wallet row is held for two round trips,
      // not two per payout.
      const payouts = rows.map(toPayout);
      const txs: { rawTx: string; txHash: string; gasPrice: bigint }[] = [];
      for (const [i, payout] of payouts.entries()) txs.push(await sign(payout, nonce + BigInt(i)));
      const nonces = payouts.map((_, i) => (nonce + BigInt(i)).toString());
      const ids = payouts.map((p) => p.withdrawalId);
      const inserted = await client.query<AttemptRow>(
        `INSERT INTO payout_attempts (withdrawal_id, wallet, nonce, gas_price, raw_tx, tx_hash)
         SELECT a.withdrawal_id, $2, a.nonce, a.gas_price, a.raw_tx, a.tx_hash
         FROM unnest($1::bigint[], $3::bigint[], $4::numeric[], $5::text[], $6::text[])
           AS a(withdrawal_id, nonce, gas_price, raw_tx, tx_hash)
         RETURNING id::text, withdrawal_id::text, nonce::text, gas_price::text, raw_tx, tx_hash, broadcast_block::text`,
        [
          ids,
          wallet,
          nonces,
          txs.map((tx) => tx.gasPrice.toString()),
          txs.map((tx) => tx.rawTx),
          txs.map((tx) => tx.txHash),
        ],
      );
      await client.query(
        `UPDATE payouts p SET status = 'signed', wallet = $2, nonce = u.nonce, tx_hash = u.tx_hash, last_error = NULL,
           updated_at = now()
         FROM unnest($1::bigint[], $3::bigint[], $4::text[]) AS u(withdrawal_id, nonce, tx_hash)
         WHERE p.withdrawal_id = u.withdrawal_id`,
        [ids, wallet, nonces, txs.map((tx) => tx.txHash)],
      );
      const attempts = new Map(inserted.rows.map((row) => [row.withdrawal_id, toAttempt(row)]));
      const signed = payouts.map((payout, i) => ({
        payout: { ...payout, status: 'signed' as const, wallet, nonce: nonce + BigInt(i), txHash: txs[i]!.txHash },
        attempt: attempts.get(payout.withdrawalId)!,
      }));
      nonce += BigInt(payouts.length);
      await client.query('UPDATE payout_wallets SET next_nonce = $2, updated_at = now() WHERE address = $1', [
        wallet,
        nonce.toString(),
      ]);
      beforeCommit();
      return signed;
    });
  }

  /** A replacement at the same nonce (more gas price), stored before it is broadcast. */
  async addAttempt(payout: Payout, tx: { rawTx: string; txHash: string; gasPrice: bigint }): Promise<Attempt> {
    const { rows } = await this.pool.query<AttemptRow>(
      `INSERT INTO payout_attempts (withdrawal_id, wallet, nonce, gas_price, raw_tx, tx_hash)
       SELECT withdrawal_id, wallet, nonce, $2, $3, $4 FROM payouts WHERE withdrawal_id = $1 AND nonce IS NOT NULL
       RETURNING id::text, withdrawal_id::text, nonce::text, gas_price::text, raw_tx, tx_hash, broadcast_block::text`,
      [payout.withdrawalId, tx.gasPrice.toString(), tx.rawTx, tx.txHash],
    );
    if (!rows[0]) throw new PayoutStateError(`payout ${payout.withdrawalId} holds no nonce`, payout.status);
    return toAttempt(rows[0]);
  }

  /** Payouts holding a nonce whose outcome is not known yet, lowest nonce first, with their attempts. */
  async unresolved(wallet: string): Promise<{ payout: Payout; attempts: Attempt[] }[]> {
    const payouts = await this.pool.query<PayoutRow>(
      `SELECT ${PAYOUT_COLUMNS} FROM ${FROM_PAYOUTS} WHERE p.wallet = $1 AND p.status IN ('signed', 'sent')
       ORDER BY p.nonce`,
      [wallet],
    );
    if (payouts.rows.length === 0) return [];
    const attempts = await this.pool.query<AttemptRow>(
      `SELECT id::text, withdrawal_id::text, nonce::text, gas_price::text, raw_tx, tx_hash, broadcast_block::text
       FROM payout_attempts WHERE withdrawal_id = ANY($1::bigint[]) AND wallet = $2 ORDER BY id`,
      [payouts.rows.map((r) => r.withdrawal_id), wallet],
    );
    const byPayout = new Map<string, Attempt[]>();
    for (const row of attempts.rows) {
      const attempt = toAttempt(row);
      // Attempts at another nonce belong to an earlier, spent nonce (a reverted transfer): never sent again.
      const list = byPayout.get(attempt.withdrawalId) ?? [];
      list.push(attempt);
      byPayout.set(attempt.withdrawalId, list);
    }
    return payouts.rows.map((row) => {
      const payout = toPayout(row);
      return { payout, attempts: (byPayout.get(payout.withdrawalId) ?? []).filter((a) => a.nonce === payout.nonce) };
    });
  }

  /** A node took the attempt (or said it knows it): now it is sent, and the user hears of it once. */
  async markSent(payout: Payout, attempt: Attempt, head: bigint): Promise<void> {
    await this.markSentMany([{ payout, attempt }], head);
  }

  /** markSent for many payouts in one transaction (a freshly signed batch). */
  async markSentMany(sent: readonly { payout: Payout; attempt: Attempt }[], head: bigint): Promise<void> {
    if (sent.length === 0) return;
    const ids = sent.map((s) => s.payout.withdrawalId);
    const attemptIds = sent.map((s) => s.attempt.id);
    await inTransaction(this.pool, async (client) => {
      // Payouts another of whose attempts reached a node before: their user heard "sent" already.
      const before = await client.query<{ withdrawal_id: string }>(
        `SELECT DISTINCT withdrawal_id::text FROM payout_attempts
         WHERE withdrawal_id = ANY($1::bigint[]) AND broadcast_block IS NOT NULL AND id <> ALL($2::bigint[])`,
        [ids, attemptIds],
      );
      await client.query(
        `UPDATE payout_attempts SET broadcast_block = COALESCE(broadcast_block, $2) WHERE id = ANY($1::bigint[])`,
        [attemptIds, head.toString()],
      );
      const changed = await client.query<{ withdrawal_id: string }>(
        `UPDATE payouts SET status = 'sent', last_error = NULL, updated_at = now()
         WHERE withdrawal_id = ANY($1::bigint[]) AND status = 'signed' RETURNING withdrawal_id::text`,
        [ids],
      );
      const told = new Set(before.rows.map((r) => r.withdrawal_id));
      const nowSent = new Set(changed.rows.map((r) => r.withdrawal_id).filter((id) => !told.has(id)));
      await enqueue(
        client,
        PAYOUT_OUTBOX,
        sent
          .filter((s) => nowSent.has(s.payout.withdrawalId))
          .flatMap((s) => payoutMessages.sent(s.payout, s.attempt.txHash)),
      );
    });
  }

  /** Final on chain: paid, announced to the ledger in the same transaction. */
  async markPaid(payout: Payout, txHash: string, blockNumber: bigint): Promise<boolean> {
    return (await this.markPaidMany([{ payout, txHash, blockNumber }])).has(payout.withdrawalId);
  }

  /** markPaid for many payouts in one transaction; answers the withdrawals that became paid now. */
  async markPaidMany(paid: readonly { payout: Payout; txHash: string; blockNumber: bigint }[]): Promise<Set<string>> {
    if (paid.length === 0) return new Set();
    const sorted = [...paid].sort((a, b) => Number(BigInt(a.payout.withdrawalId) - BigInt(b.payout.withdrawalId)));
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ withdrawal_id: string }>(
        `UPDATE payouts p SET status = 'paid', tx_hash = u.tx_hash, block_number = u.block_number, last_error = NULL,
           updated_at = now()
         FROM unnest($1::bigint[], $2::text[], $3::bigint[]) AS u(withdrawal_id, tx_hash, block_number)
         WHERE p.withdrawal_id = u.withdrawal_id AND p.status IN ('signed', 'sent')
         RETURNING p.withdrawal_id::text`,
        [
          sorted.map((p) => p.payout.withdrawalId),
          sorted.map((p) => p.txHash),
          sorted.map((p) => p.blockNumber.toString()),
        ],
      );
      const now = new Set(rows.map((r) => r.withdrawal_id));
      if (now.size === 0) return now;
      await client.query(
        `UPDATE payment_retries SET status = 'completed', updated_at = now() WHERE withdrawal_id = ANY($1::bigint[])`,
        [[...now]],
      );
      await enqueue(
        client,
        PAYOUT_OUTBOX,
        sorted
          .filter((p) => now.has(p.payout.withdrawalId))
          .flatMap((p) => payoutMessages.paid(p.payout, p.txHash, p.blockNumber)),
      );
      return now;
    });
  }

  /** Another transaction spent the payout's nonce: only a person can tell what happened. Never paid by itself. */
  async markReview(payout: Payout, reason: string): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE payouts SET status = 'review', last_error = $2, updated_at = now()
         WHERE withdrawal_id = $1 AND status IN ('signed', 'sent')`,
        [payout.withdrawalId, reason],
      );
      if (rowCount === 1) await enqueue(client, PAYOUT_OUTBOX, payoutMessages.review(payout, reason));
    });
  }

  /**
   * A failed try: scheduled again with exponential backoff and jitter, or dead after max attempts (admins told, the
   * funds stay held). `releaseNonce`: the transfer reverted and its nonce is spent, so the next try needs a new one.
   */
  async fail(
    payout: Payout,
    error: string,
    policy: RetryPolicy,
    options: { releaseNonce?: boolean; from: readonly PayoutStatus[] },
  ): Promise<'retrying' | 'dead' | 'unchanged'> {
    return inTransaction(this.pool, async (client) => {
      const retry = await client.query<{ attempts: number; max_attempts: number }>(
        `INSERT INTO payment_retries (withdrawal_id, attempts, max_attempts, next_retry_at, last_error)
         VALUES ($1, 1, $2, now(), $3)
         ON CONFLICT (withdrawal_id) DO UPDATE SET attempts = payment_retries.attempts + 1,
           last_error = EXCLUDED.last_error, status = 'pending', updated_at = now()
         RETURNING attempts, max_attempts`,
        [payout.withdrawalId, policy.maxAttempts, error.slice(0, 1000)],
      );
      const { attempts, max_attempts: max } = retry.rows[0]!;
      const dead = attempts >= max;
      const delayMs = retryDelayMs(policy, attempts);
      const { rowCount } = await client.query(
        `UPDATE payouts SET status = $2, last_error = $3, updated_at = now(),
           nonce = CASE WHEN $4 THEN NULL ELSE nonce END, wallet = CASE WHEN $4 THEN NULL ELSE wallet END,
           tx_hash = CASE WHEN $4 THEN NULL ELSE tx_hash END
         WHERE withdrawal_id = $1 AND status = ANY($5::text[])`,
        [
          payout.withdrawalId,
          dead ? 'dead' : 'retrying',
          error.slice(0, 1000),
          options.releaseNonce ?? false,
          options.from,
        ],
      );
      if (rowCount !== 1) {
        throw new PayoutStateError(`payout ${payout.withdrawalId} moved on meanwhile`, payout.status);
      }
      await client.query(
        `UPDATE payment_retries SET status = $2, next_retry_at = now() + $3 * interval '1 millisecond'
         WHERE withdrawal_id = $1`,
        [payout.withdrawalId, dead ? 'dead' : 'pending', delayMs],
      );
      const messages: OutboxMessage[] = dead
        ? payoutMessages.dead(payout, error, Date.now())
        : payoutMessages.retrying(payout, attempts);
      await enqueue(client, PAYOUT_OUTBOX, messages);
      return dead ? 'dead' : 'retrying';
    });
  }

  /** The payment-retry job: due retries go back to the writer (to be signed, or re-broadcast if they hold a nonce). */
  async releaseDueRetries(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE payouts p SET status = CASE WHEN p.nonce IS NULL THEN 'queued' ELSE 'signed' END, updated_at = now()
       FROM payment_retries r
       WHERE r.withdrawal_id = p.withdrawal_id AND p.status = 'retrying' AND r.status = 'pending'
         AND r.next_retry_at <= now()`,
    );
    return rowCount ?? 0;
  }

  /**
   * An admin sends a dead or reviewed payout again. A dead one keeps its nonce and signed bytes if it has them; one
   * under review lost its nonce to another transaction (final on chain), so it can be signed afresh.
   */
  async retryByAdmin(withdrawalId: string): Promise<Payout> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ status: PayoutStatus }>(
        `UPDATE payouts p SET
           status = CASE WHEN p.status = 'review' OR p.nonce IS NULL THEN 'queued' ELSE 'signed' END,
           nonce = CASE WHEN p.status = 'review' THEN NULL ELSE p.nonce END,
           wallet = CASE WHEN p.status = 'review' THEN NULL ELSE p.wallet END,
           tx_hash = CASE WHEN p.status = 'review' THEN NULL ELSE p.tx_hash END,
           updated_at = now()
         WHERE p.withdrawal_id = $1 AND p.status IN ('dead', 'review') RETURNING p.status`,
        [withdrawalId],
      );
      if (!rows[0]) {
        const current = await client.query<{ status: PayoutStatus }>(
          'SELECT status FROM payouts WHERE withdrawal_id = $1',
          [withdrawalId],
        );
        throw new PayoutStateError(
          current.rows[0]
            ? `the payout is ${current.rows[0].status}; only dead or reviewed ones are retried`
            : 'no such payout',
          current.rows[0]?.status ?? null,
        );
      }
      await client.query(
        `UPDATE payment_retries SET attempts = 0, status = 'pending', next_retry_at = now(), updated_at = now()
         WHERE withdrawal_id = $1`,
        [withdrawalId],
      );
      const after = await client.query<PayoutRow>(
        `SELECT ${PAYOUT_COLUMNS} FROM ${FROM_PAYOUTS} WHERE p.withdrawal_id = $1`,
        [withdrawalId],
      );
      return toPayout(after.rows[0]!);
    });
  }

  /**
   * Gives a payout up so the ledger may return the funds: only while nothing of it can reach the chain (no nonce, or
   * its nonce spent by another transaction). A payout not seen yet is recorded as cancelled, so a late approval
   * message never sends it.
   */
  async cancel(ref: PayoutRef): Promise<Payout> {
    return inTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO payouts (withdrawal_id, user_id, destination, amount, status) VALUES ($1, $2, $3, $4, 'cancelled')
         ON CONFLICT (withdrawal_id) DO NOTHING`,
        [ref.withdrawalId, ref.userId, ref.destination, ref.amount],
      );
      const { rows } = await client.query<PayoutRow>(
        `SELECT ${PAYOUT_COLUMNS} FROM ${FROM_PAYOUTS} WHERE p.withdrawal_id = $1 FOR UPDATE OF p`,
        [ref.withdrawalId],
      );
      const payout = toPayout(rows[0]!);
      if (payout.status === 'cancelled') return payout;
      const cancellable =
        payout.status === 'review' || (['queued', 'retrying', 'dead'].includes(payout.status) && payout.nonce === null);
      if (!cancellable)
        throw new PayoutStateError(
          payout.nonce !== null && payout.status !== 'paid'
            ? `the payout is ${payout.status} with a signed transaction at nonce ${payout.nonce} that can still reach the chain; retry it instead`
            : `the payout is ${payout.status}`,
          payout.status,
        );
      await client.query(`UPDATE payouts SET status = 'cancelled', updated_at = now() WHERE withdrawal_id = $1`, [
        ref.withdrawalId,
      ]);
      await client.query(`UPDATE payment_retries SET status = 'dead', updated_at = now() WHERE withdrawal_id = $1`, [
        ref.withdrawalId,
      ]);
      return { ...payout, status: 'cancelled' };
    });
  }

  async paidPage(after: string, limit: number) {
    const { rows } = await this.pool.query<{
      withdrawal_id: string;
      amount: string;
      destination: string;
      tx_hash: string;
      block_number: string;
    }>(
      `SELECT withdrawal_id::text, amount::text, destination, tx_hash, block_number::text FROM payouts
       WHERE status = 'paid' AND withdrawal_id > $1 ORDER BY withdrawal_id LIMIT $2`,
      [after, limit],
    );
    return rows.map((r) => ({
      withdrawalId: r.withdrawal_id,
      amount: r.amount,
      destination: r.destination,
      txHash: r.tx_hash,
      blockNumber: r.block_number,
    }));
  }

  /** Remembers the hot wallet's balances seen at this hour were low, once: the alert's id carries the hour. */
  async alert(messages: OutboxMessage[]): Promise<void> {
    await inTransaction(this.pool, (client) => enqueue(client, PAYOUT_OUTBOX, messages));
  }
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
}

/** Exponential backoff with ±50% jitter, so payouts that failed together do not come back together. */
export function retryDelayMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const exponential = policy.baseDelayMs * 2 ** Math.min(attempt - 1, 16);
  return Math.round(exponential * (0.5 + random()));
}
