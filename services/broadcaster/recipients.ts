// A campaign's recipients and the checkpoint of each: chosen once (paged from the audience), claimed in small
// batches by any replica (FOR UPDATE SKIP LOCKED), marked 'sending' before the request leaves and with its outcome
// after. A row left 'sending' by a replica that died is never sent again: it becomes 'ambiguous'.
import type pg from 'pg';
import type { Contact } from '../../lib/contracts';
import { inTransaction } from '../../lib/db';

export interface Claimed {
  userId: string;
  telegramId: string;
  /** Attempts including this one. */
  attempts: number;
}

export type RecipientStatus = 'pending' | 'sent' | 'failed' | 'blocked' | 'ambiguous';

export interface Outcome {
  userId: string;
  status: RecipientStatus;
  error?: string;
  /** Back to pending without counting an attempt (the budget or a 429 said "later", the campaign was paused). */
  release?: boolean;
  /** For a recipient going back to pending: not before this. */
  retryAt?: Date;
}

export class Recipients {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Adds one page of the audience and moves the campaign's cursor in one transaction, so a crash in between
   * repeats the page (ON CONFLICT) instead of skipping it; `next` null closes the list and sets its total.
   */
  async addPage(campaignId: string, page: Contact[], next: string | null): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      if (page.length > 0) {
        await client.query(
          `INSERT INTO broadcast_recipients (broadcast_id, user_id, telegram_id)
           SELECT $1, u, t FROM unnest($2::bigint[], $3::bigint[]) AS x(u, t)
           ON CONFLICT DO NOTHING`,
          [campaignId, page.map((c) => c.userId), page.map((c) => c.telegramId)],
        );
      }
      if (next !== null) {
        await client.query(`UPDATE broadcasts SET audience_cursor = $2, updated_at = now() WHERE id = $1`, [
          campaignId,
          next,
        ]);
      } else {
        await client.query(
          `UPDATE broadcasts SET total = (SELECT count(*) FROM broadcast_recipients WHERE broadcast_id = $1),
             updated_at = now()
           WHERE id = $1`,
          [campaignId],
        );
      }
    });
  }

  /** How many recipients have been chosen so far. */
  async chosen(campaignId: string): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM broadcast_recipients WHERE broadcast_id = $1',
      [campaignId],
    );
    return Number(rows[0]!.n);
  }

  /**
   * Up to `limit` due pending recipients of a running campaign, marked 'sending' by `replica`, in one statement.
   * Replicas skip each other's locked rows, so each recipient goes to one replica.
   */
  async claim(campaignId: string, replica: string, limit: number): Promise<Claimed[]> {
    const { rows } = await this.pool.query<{ user_id: string; telegram_id: string; attempts: number }>(
      `UPDATE broadcast_recipients r
       SET status = 'sending', claimed_by = $2, claimed_at = now(), attempts = r.attempts + 1
       FROM (SELECT broadcast_id, user_id FROM broadcast_recipients
             WHERE broadcast_id = $1 AND status = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now())
               AND EXISTS (SELECT 1 FROM broadcasts WHERE id = $1 AND status = 'running')
             ORDER BY user_id LIMIT $3 FOR UPDATE SKIP LOCKED) AS due
       WHERE r.broadcast_id = due.broadcast_id AND r.user_id = due.user_id
       RETURNING r.user_id, r.telegram_id, r.attempts`,
      [campaignId, replica, limit],
    );
    return rows.map((r) => ({ userId: String(r.user_id), telegramId: String(r.telegram_id), attempts: r.attempts }));
  }

  /**
   * The outcomes of `replica`'s claims, in one statement. An outcome also replaces 'ambiguous': a live replica
   * whose heartbeat lapsed (a Redis hiccup) may have been taken for dead while it knew what happened.
   */
  async record(campaignId: string, replica: string, outcomes: Outcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    await this.pool.query(
      `UPDATE broadcast_recipients r
       SET status = o.status,
           last_error = COALESCE(o.error, r.last_error),
           next_attempt_at = o.retry_at,
           attempts = CASE WHEN o.release THEN r.attempts - 1 ELSE r.attempts END,
           claimed_by = CASE WHEN o.status = 'pending' THEN NULL ELSE r.claimed_by END,
           done_at = CASE WHEN o.status = 'pending' THEN NULL ELSE now() END,
           unreachable_pending = (o.status = 'blocked')
       FROM unnest($3::bigint[], $4::text[], $5::text[], $6::boolean[], $7::timestamptz[])
            AS o(user_id, status, error, release, retry_at)
       WHERE r.broadcast_id = $1 AND r.user_id = o.user_id AND r.claimed_by = $2
         AND r.status IN ('sending', 'ambiguous')`,
      [
        campaignId,
        replica,
        outcomes.map((o) => o.userId),
        outcomes.map((o) => o.status),
        outcomes.map((o) => o.error?.slice(0, 500) ?? null),
        outcomes.map((o) => o.release ?? false),
        outcomes.map((o) => o.retryAt?.toISOString() ?? null),
      ],
    );
  }

  /** Replicas with rows 'sending' in the given campaigns. */
  async claimants(campaignIds: string[]): Promise<string[]> {
    if (campaignIds.length === 0) return [];
    const { rows } = await this.pool.query<{ claimed_by: string }>(
      `SELECT DISTINCT claimed_by FROM broadcast_recipients
       WHERE broadcast_id = ANY($1::bigint[]) AND status = 'sending'`,
      [campaignIds],
    );
    return rows.map((r) => r.claimed_by);
  }

  /** A dead replica's rows in flight: their requests may have reached Telegram, so they are never sent again. */
  async abandon(campaignIds: string[], replica: string): Promise<number> {
    const { rowCount } = await this.pool.query(
      `UPDATE broadcast_recipients SET status = 'ambiguous', done_at = now(),
         last_error = 'the replica sending it stopped before it knew the outcome'
       WHERE broadcast_id = ANY($1::bigint[]) AND status = 'sending' AND claimed_by = $2`,
      [campaignIds, replica],
    );
    return rowCount ?? 0;
  }

  /** Blocked recipients whose mark in users is still owed. */
  async unreachableOwed(
    campaignIds: string[],
    limit = 200,
  ): Promise<{ campaignId: string; userId: string; telegramId: string; reason: string }[]> {
    if (campaignIds.length === 0) return [];
    const { rows } = await this.pool.query<{
      broadcast_id: string;
      user_id: string;
      telegram_id: string;
      last_error: string | null;
    }>(
      `SELECT broadcast_id, user_id, telegram_id, last_error FROM broadcast_recipients
       WHERE broadcast_id = ANY($1::bigint[]) AND status = 'blocked' AND unreachable_pending LIMIT $2`,
      [campaignIds, limit],
    );
    return rows.map((r) => ({
      campaignId: String(r.broadcast_id),
      userId: String(r.user_id),
      telegramId: String(r.telegram_id),
      reason: r.last_error ?? 'blocked',
    }));
  }

  async unreachableMarked(campaignId: string, userId: string): Promise<void> {
    await this.pool.query(
      `UPDATE broadcast_recipients SET unreachable_pending = false WHERE broadcast_id = $1 AND user_id = $2`,
      [campaignId, userId],
    );
  }
}
