// chain-monitor's tables: checkpoints (the cursor and its recent history) and observed transfers.
import type pg from 'pg';
import { inTransaction } from '../../lib/db';
import type { OutboxMessage } from '../../lib/contracts';
import { enqueue } from '../../lib/outbox';
import type { BlockRef, TransferLog } from '../../lib/chain/reads';

export interface ObservedTransfer extends TransferLog {
  userId: string | null;
  /** Grows with every change of the transfer's state, so consumers can tell a newer fact from a late older one. */
  revision?: number;
  /** A copy of a transfer confirmed before (its transaction mined again after a deep reorg): nobody is told of it. */
  remined?: boolean;
}

export interface WindowResult {
  seen: ObservedTransfer[];
  confirmed: ObservedTransfer[];
  duplicate: ObservedTransfer[];
  /** Reorged-out transfers whose transaction this window shows mined again under another log index. */
  restored: ObservedTransfer[];
}

interface EarlierTransfer {
  tx_hash: string;
  log_index: number;
  block_hash: string;
  from_address: string;
  amount: string;
}

/**
 * Which of `transfers` are copies of a transfer confirmed (or confirmed, then reorged out) before: the same
 * transaction, sender and amount under another log index in another block, mined again after a reorg deeper than
 * the confirmation depth. Two equal transfers of one transaction share their block, and come back together after a
 * deep reorg (both in this batch), so neither is ever taken for a copy of the other.
 */
function copiesAmong(transfers: readonly ObservedTransfer[], earlier: readonly EarlierTransfer[]): boolean[] {
  if (earlier.length === 0) return transfers.map(() => false);
  const batch = new Set(transfers.map((t) => `${t.txHash}:${t.logIndex}`));
  return transfers.map((t) =>
    earlier.some(
      (c) =>
        c.tx_hash === t.txHash &&
        c.log_index !== t.logIndex &&
        c.block_hash !== t.blockHash &&
        c.from_address === t.from &&
        BigInt(c.amount) === t.amount &&
        !batch.has(`${c.tx_hash}:${c.log_index}`),
    ),
  );
}

/**
 * A copy judged duplicate brings its reorged-out original back: the original (whose key the ledger credited) is
 * confirmed again in the copy's block.
 */
const RESTORE_ORIGINALS = `
  UPDATE observed_transfers o
  SET status = 'confirmed', block_number = x.block_number, block_hash = x.block_hash, reorged_at = NULL,
      confirmed_at = now(), revision = o.revision + 1
  FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[], $7::numeric[])
    AS x(tx_hash, log_index, block_number, block_hash, from_address, amount)
  WHERE o.chain_id = $1 AND o.tx_hash = x.tx_hash AND o.log_index <> x.log_index AND o.status = 'reorged_out'
    AND o.from_address = x.from_address AND o.amount = x.amount
  RETURNING o.*`;

export const CHAIN_OUTBOX = 'chain_outbox';

/** Checkpoints kept to find a reorg's common ancestor; deeper reorgs than this rescan from the oldest. */
const CHECKPOINTS_KEPT = 512;

export class TransferStore {
  constructor(
    private readonly pool: pg.Pool,
    readonly chainId: number,
  ) {}

  async cursor(): Promise<BlockRef | null> {
    const [latest] = await this.checkpoints(1);
    return latest ?? null;
  }

  /** Newest first. */
  async checkpoints(limit = CHECKPOINTS_KEPT): Promise<BlockRef[]> {
    const { rows } = await this.pool.query<{ block_number: string; block_hash: string }>(
      'SELECT block_number, block_hash FROM chain_checkpoints WHERE chain_id = $1 ORDER BY block_number DESC LIMIT $2',
      [this.chainId, limit],
    );
    return rows.map((r) => ({ number: BigInt(r.block_number), hash: r.block_hash }));
  }

  /**
   * Records one scanned window atomically: its transfers, the checkpoint that moves the cursor, and the messages
   * for transfers seen for the first time. Transfers at or below `confirmedUpTo` (a catch-up over old blocks) are
   * recorded as confirmed at once; the others wait as seen. Returns the newly recorded ones.
   */
  async recordWindow(
    transfers: ObservedTransfer[],
    checkpoint: BlockRef,
    confirmedUpTo: bigint,
    messagesFor: (fresh: WindowResult) => OutboxMessage[],
  ): Promise<WindowResult> {
    return inTransaction(this.pool, async (client) => {
      const fresh: WindowResult = { seen: [], confirmed: [], duplicate: [], restored: [] };
      if (transfers.length > 0) {
        // A transfer orphaned or reorged out by a reorg and mined again comes back to life with its new block.
        const copies = copiesAmong(transfers, await this.earlierConfirmed(client, transfers));
        const { rows } = await client.query<{
          tx_hash: string;
          log_index: number;
          status: 'seen' | 'confirmed' | 'duplicate';
          revision: number;
        }>(
          `INSERT INTO observed_transfers (chain_id, tx_hash, log_index, block_number, block_hash, from_address, to_address, amount, user_id, status, confirmed_at)
           SELECT $1, x.tx_hash, x.log_index, x.block_number, x.block_hash, x.from_address, x.to_address, x.amount, x.user_id,
             s.status, CASE WHEN s.status = 'confirmed' THEN now() END
           FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::numeric[], $9::bigint[], $11::boolean[])
             AS x(tx_hash, log_index, block_number, block_hash, from_address, to_address, amount, user_id, copy)
           CROSS JOIN LATERAL (SELECT CASE
             WHEN x.block_number > $10 THEN 'seen'
             WHEN x.copy THEN 'duplicate'
             ELSE 'confirmed' END AS status) s
           ON CONFLICT (chain_id, tx_hash, log_index) DO UPDATE
             SET block_number = EXCLUDED.block_number, block_hash = EXCLUDED.block_hash,
                 user_id = COALESCE(observed_transfers.user_id, EXCLUDED.user_id),
                 status = EXCLUDED.status, confirmed_at = EXCLUDED.confirmed_at, reorged_at = NULL,
                 revision = observed_transfers.revision + 1
             WHERE observed_transfers.status IN ('orphaned', 'reorged_out')
                OR (observed_transfers.status IN ('seen', 'duplicate') AND observed_transfers.block_hash <> EXCLUDED.block_hash)
           RETURNING tx_hash, log_index, status, revision`,
          [
            this.chainId,
            transfers.map((t) => t.txHash),
            transfers.map((t) => t.logIndex),
            transfers.map((t) => t.blockNumber.toString()),
            transfers.map((t) => t.blockHash),
            transfers.map((t) => t.from),
            transfers.map((t) => t.to),
            transfers.map((t) => t.amount.toString()),
            transfers.map((t) => t.userId),
            confirmedUpTo.toString(),
            copies,
          ],
        );
        const written = new Map(rows.map((r) => [`${r.tx_hash}:${r.log_index}`, r]));
        transfers.forEach((t, i) => {
          const row = written.get(`${t.txHash}:${t.logIndex}`);
          if (row) fresh[row.status].push({ ...t, revision: row.revision, remined: copies[i] });
        });
        fresh.restored = await this.restoreOriginals(client, fresh.duplicate);
        await enqueue(client, CHAIN_OUTBOX, messagesFor(fresh));
      }
      await client.query(
        `INSERT INTO chain_checkpoints (chain_id, block_number, block_hash) VALUES ($1, $2, $3)
         ON CONFLICT (chain_id, block_number) DO UPDATE SET block_hash = EXCLUDED.block_hash`,
        [this.chainId, checkpoint.number.toString(), checkpoint.hash],
      );
      await client.query(
        `DELETE FROM chain_checkpoints WHERE chain_id = $1 AND block_number < (
           SELECT block_number FROM chain_checkpoints WHERE chain_id = $1 ORDER BY block_number DESC OFFSET $2 LIMIT 1)`,
        [this.chainId, CHECKPOINTS_KEPT],
      );
      return fresh;
    });
  }

  /**
   * Forgets everything above the common ancestor: unconfirmed transfers there are orphaned until seen again;
   * confirmed ones are reorged out (their block is gone after they were announced) and announced as such, in the
   * same transaction, until their transaction is mined again.
   */
  async rewind(
    ancestor: BlockRef | null,
    startBlock: bigint,
    messagesFor: (reorged: ObservedTransfer[]) => OutboxMessage[],
  ): Promise<{ orphaned: number; reorged: ObservedTransfer[] }> {
    const above = (ancestor?.number ?? startBlock - 1n).toString();
    return inTransaction(this.pool, async (client) => {
      const orphaned = await client.query(
        `UPDATE observed_transfers SET status = 'orphaned', revision = revision + 1
         WHERE chain_id = $1 AND block_number > $2 AND status = 'seen'`,
        [this.chainId, above],
      );
      const reorged = await client.query<TransferRow>(
        `UPDATE observed_transfers SET status = 'reorged_out', reorged_at = now(), revision = revision + 1
         WHERE chain_id = $1 AND block_number > $2 AND status = 'confirmed'
         RETURNING *`,
        [this.chainId, above],
      );
      await client.query('DELETE FROM chain_checkpoints WHERE chain_id = $1 AND block_number > $2', [
        this.chainId,
        above,
      ]);
      const transfers = reorged.rows.map(fromRow);
      await enqueue(client, CHAIN_OUTBOX, messagesFor(transfers));
      return { orphaned: orphaned.rowCount ?? 0, reorged: transfers };
    });
  }

  async awaitingConfirmation(upTo: bigint, limit = 1000): Promise<ObservedTransfer[]> {
    const { rows } = await this.pool.query<TransferRow>(
      `SELECT * FROM observed_transfers WHERE chain_id = $1 AND status = 'seen' AND block_number <= $2
       ORDER BY block_number, log_index LIMIT $3`,
      [this.chainId, upTo.toString(), limit],
    );
    return rows.map(fromRow);
  }

  /**
   * Marks transfers confirmed and, for those with a user, announces them to the ledger, in one transaction.
   * A transfer of a transaction already confirmed under another log index is marked duplicate instead.
   */
  async confirm(
    transfers: ObservedTransfer[],
    announcementsFor: (matched: ObservedTransfer[]) => OutboxMessage[],
  ): Promise<{ confirmed: ObservedTransfer[]; duplicate: ObservedTransfer[]; restored: ObservedTransfer[] }> {
    if (transfers.length === 0) return { confirmed: [], duplicate: [], restored: [] };
    return inTransaction(this.pool, async (client) => {
      const copies = copiesAmong(transfers, await this.earlierConfirmed(client, transfers));
      const { rows } = await client.query<{
        tx_hash: string;
        log_index: number;
        status: 'confirmed' | 'duplicate';
        revision: number;
      }>(
        `UPDATE observed_transfers o
         SET status = CASE WHEN x.copy THEN 'duplicate' ELSE 'confirmed' END,
             confirmed_at = now(), user_id = x.user_id, revision = o.revision + 1
         FROM unnest($2::text[], $3::int[], $4::bigint[], $5::text[], $6::boolean[]) AS x(tx_hash, log_index, user_id, block_hash, copy)
         WHERE o.chain_id = $1 AND o.tx_hash = x.tx_hash AND o.log_index = x.log_index AND o.status = 'seen' AND o.block_hash = x.block_hash
         RETURNING o.tx_hash, o.log_index, o.status, o.revision`,
        [
          this.chainId,
          transfers.map((t) => t.txHash),
          transfers.map((t) => t.logIndex),
          transfers.map((t) => t.userId),
          transfers.map((t) => t.blockHash),
          copies,
        ],
      );
      const written = new Map(rows.map((r) => [`${r.tx_hash}:${r.log_index}`, r]));
      const judged = transfers.flatMap((t) => {
        const row = written.get(`${t.txHash}:${t.logIndex}`);
        return row ? [{ ...t, revision: row.revision, status: row.status }] : [];
      });
      const confirmed = judged.filter((t) => t.status === 'confirmed');
      const duplicate = judged.filter((t) => t.status === 'duplicate');
      const restored = await this.restoreOriginals(client, duplicate);
      await enqueue(
        client,
        CHAIN_OUTBOX,
        announcementsFor([...confirmed, ...restored].filter((t) => t.userId !== null)),
      );
      return { confirmed, duplicate, restored };
    });
  }

  /** Transfers of these transactions confirmed (or confirmed, then reorged out) before: the candidates' originals. */
  private async earlierConfirmed(
    client: pg.PoolClient,
    transfers: readonly ObservedTransfer[],
  ): Promise<EarlierTransfer[]> {
    const { rows } = await client.query<EarlierTransfer>({
      name: 'chain.earlier-confirmed',
      text: `SELECT tx_hash, log_index, block_hash, from_address, amount::text AS amount FROM observed_transfers
             WHERE chain_id = $1 AND tx_hash = ANY($2::text[]) AND status IN ('confirmed', 'reorged_out')`,
      values: [this.chainId, [...new Set(transfers.map((t) => t.txHash))]],
    });
    return rows;
  }

  private async restoreOriginals(client: pg.PoolClient, copies: ObservedTransfer[]): Promise<ObservedTransfer[]> {
    if (copies.length === 0) return [];
    const { rows } = await client.query<TransferRow>(RESTORE_ORIGINALS, [
      this.chainId,
      copies.map((t) => t.txHash),
      copies.map((t) => t.logIndex),
      copies.map((t) => t.blockNumber.toString()),
      copies.map((t) => t.blockHash),
      copies.map((t) => t.from),
      copies.map((t) => t.amount.toString()),
    ]);
    return rows.map(fromRow);
  }

  async orphan(transfers: ObservedTransfer[]): Promise<void> {
    await this.pool.query(
      `UPDATE observed_transfers o SET status = 'orphaned' FROM unnest($2::text[], $3::int[]) AS x(tx_hash, log_index)
       WHERE o.chain_id = $1 AND o.tx_hash = x.tx_hash AND o.log_index = x.log_index AND o.status = 'seen'`,
      [this.chainId, transfers.map((t) => t.txHash), transfers.map((t) => t.logIndex)],
    );
  }

  /** Every confirmed transfer to the system wallet, in chain order after (block, log index). */
  async confirmedAfter(after: { blockNumber: bigint; logIndex: number } | undefined, limit: number) {
    const { rows } = await this.pool.query<TransferRow>(
      `SELECT * FROM observed_transfers WHERE chain_id = $1 AND status = 'confirmed'
         AND (block_number, log_index) > ($2::bigint, $3::int)
       ORDER BY block_number, log_index LIMIT $4`,
      [this.chainId, (after?.blockNumber ?? -1n).toString(), after?.logIndex ?? -1, limit],
    );
    return rows.map(fromRow);
  }

  /** Confirmed transfers from wallets nobody registered: kept for admins, never dropped. */
  async unmatched(limit = 100, offset = 0): Promise<ObservedTransfer[]> {
    const { rows } = await this.pool.query<TransferRow>(
      `SELECT * FROM observed_transfers WHERE chain_id = $1 AND status = 'confirmed' AND user_id IS NULL
       ORDER BY block_number DESC, log_index DESC LIMIT $2 OFFSET $3`,
      [this.chainId, limit, offset],
    );
    return rows.map(fromRow);
  }
}

interface TransferRow {
  tx_hash: string;
  log_index: number;
  block_number: string;
  block_hash: string;
  from_address: string;
  to_address: string;
  amount: string;
  user_id: string | null;
  status: string;
  revision: number;
}

function fromRow(row: TransferRow): ObservedTransfer {
  return {
    txHash: row.tx_hash,
    logIndex: row.log_index,
    blockNumber: BigInt(row.block_number),
    blockHash: row.block_hash,
    from: row.from_address,
    to: row.to_address,
    amount: BigInt(row.amount),
    userId: row.user_id === null ? null : String(row.user_id),
    revision: row.revision,
  };
}
