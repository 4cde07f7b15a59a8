// Campaigns: the broadcasts table and its state machine. Every admin action and the finish change the state and
// write their audit message in one transaction (broadcaster_outbox), so the audit log can never miss one.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import {
  AuditChannels,
  outboxMessage,
  type Audience,
  type CampaignProgress,
  type CampaignStatus,
  type MessageContent,
} from '../../lib/contracts';
import { inTransaction } from '../../lib/db';
import { enqueue } from '../../lib/outbox';

export const BROADCASTER_OUTBOX = 'broadcaster_outbox';

export interface CampaignRow {
  id: string;
  status: CampaignStatus;
  content: MessageContent;
  audience: Audience;
  paid: boolean;
  created_by: string;
  total: number | null;
  audience_cursor: string | null;
  sent: number;
  failed: number;
  blocked: number;
  ambiguous: number;
  progress_chat_id: string | null;
  progress_message_id: string | null;
  report_sent: boolean;
  started_at: Date | null;
  finished_at: Date | null;
}

export type AdminAction = 'start' | 'pause' | 'resume' | 'cancel';

/** Which states each action leaves from, and where it goes. */
const TRANSITIONS: Record<AdminAction, { from: CampaignStatus[]; to: CampaignStatus }> = {
  start: { from: ['draft'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  cancel: { from: ['draft', 'running', 'paused'], to: 'cancelled' },
};

const AUDIT_ACTION = {
  start: 'broadcast.started',
  pause: 'broadcast.paused',
  resume: 'broadcast.resumed',
  cancel: 'broadcast.cancelled',
} as const;

export class CampaignNotFound extends Error {}
export class WrongState extends Error {
  constructor(
    readonly action: AdminAction,
    readonly status: CampaignStatus,
  ) {
    super(`cannot ${action} a campaign that is ${status}`);
  }
}

export interface Counts {
  pending: number;
  sending: number;
  sent: number;
  failed: number;
  blocked: number;
  ambiguous: number;
  /** Outcomes recorded within the last RATE_WINDOW_S seconds. */
  recent: number;
}

const RATE_WINDOW_S = 10;
const COLUMNS = `id, status, content, audience, paid, created_by, total, audience_cursor, sent, failed, blocked,
  ambiguous, progress_chat_id, progress_message_id, report_sent, started_at, finished_at`;

function audit(actor: string, action: keyof typeof AUDIT_ACTION | 'finish', id: string, details = {}) {
  return outboxMessage(AuditChannels.entry, {
    id: `audit:broadcast:${id}:${action}:${randomUUID()}`,
    actor,
    action: action === 'finish' ? 'broadcast.finished' : AUDIT_ACTION[action],
    target: `broadcast:${id}`,
    at: new Date().toISOString(),
    details,
  });
}

export class Campaigns {
  constructor(private readonly pool: pg.Pool) {}

  async create(actor: string, content: MessageContent, audience: Audience, paid: boolean): Promise<CampaignRow> {
    const { rows } = await this.pool.query<CampaignRow>(
      `INSERT INTO broadcasts (content, audience, paid, created_by) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      [JSON.stringify(content), JSON.stringify(audience), paid, actor],
    );
    return rows[0]!;
  }

  async get(id: string): Promise<CampaignRow | undefined> {
    const { rows } = await this.pool.query<CampaignRow>(`SELECT ${COLUMNS} FROM broadcasts WHERE id = $1`, [id]);
    return rows[0];
  }

  /** Just the status (what a send checks on a missing status flag). */
  async status(id: string): Promise<CampaignStatus | undefined> {
    const { rows } = await this.pool.query<{ status: CampaignStatus }>('SELECT status FROM broadcasts WHERE id = $1', [
      id,
    ]);
    return rows[0]?.status;
  }

  async list(limit: number): Promise<CampaignRow[]> {
    const { rows } = await this.pool.query<CampaignRow>(`SELECT ${COLUMNS} FROM broadcasts ORDER BY id DESC LIMIT $1`, [
      limit,
    ]);
    return rows;
  }

  /** Campaigns with work left for a sender or a reporter: running, paused, or ended without their report. */
  async open(): Promise<CampaignRow[]> {
    const { rows } = await this.pool.query<CampaignRow>(
      `SELECT ${COLUMNS} FROM broadcasts
       WHERE status IN ('running', 'paused') OR (status IN ('cancelled', 'finished') AND NOT report_sent)
       ORDER BY id`,
    );
    return rows;
  }

  /** The ids of the latest campaigns (their blocked recipients' marks in users may still be owed). */
  async recentIds(limit = 20): Promise<string[]> {
    const { rows } = await this.pool.query<{ id: string }>(
      `SELECT id FROM broadcasts WHERE status <> 'draft' ORDER BY id DESC LIMIT $1`,
      [limit],
    );
    return rows.map((r) => String(r.id));
  }

  async setContent(id: string, content: MessageContent): Promise<void> {
    await this.pool.query(`UPDATE broadcasts SET content = $2, updated_at = now() WHERE id = $1 AND status = 'draft'`, [
      id,
      JSON.stringify(content),
    ]);
  }

  /** An admin action: checked against the state, applied and audited in one transaction. */
  async transition(id: string, actor: string, action: AdminAction): Promise<CampaignRow> {
    const { from, to } = TRANSITIONS[action];
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<CampaignRow>(`SELECT ${COLUMNS} FROM broadcasts WHERE id = $1 FOR UPDATE`, [
        id,
      ]);
      const row = rows[0];
      if (!row) throw new CampaignNotFound(`no broadcast #${id}`);
      if (!from.includes(row.status)) throw new WrongState(action, row.status);
      const { rows: updated } = await client.query<CampaignRow>(
        `UPDATE broadcasts SET status = $2, updated_at = now(),
           started_at = CASE WHEN $3 THEN now() ELSE started_at END,
           finished_at = CASE WHEN $4 THEN now() ELSE finished_at END,
           report_sent = report_sent OR $5
         WHERE id = $1 RETURNING ${COLUMNS}`,
        // A draft cancelled before it started sent nothing: it has no report (its audit entry is still written).
        [id, to, action === 'start', to === 'cancelled', row.status === 'draft' && to === 'cancelled'],
      );
      await enqueue(client, BROADCASTER_OUTBOX, [audit(actor, action, id, { from: row.status, to })]);
      return updated[0]!;
    });
  }

  /**
   * A running campaign whose recipients are all chosen and none of them pending or in flight is finished, once,
   * by whichever replica notices first (the row lock decides), with its audit message.
   */
  async finishIfDone(id: string): Promise<boolean> {
    return inTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ total: number | null }>(
        `SELECT total FROM broadcasts WHERE id = $1 AND status = 'running' FOR UPDATE`,
        [id],
      );
      if (!rows[0] || rows[0].total === null) return false;
      const { rows: open } = await client.query(
        `SELECT 1 FROM broadcast_recipients WHERE broadcast_id = $1 AND status IN ('pending', 'sending') LIMIT 1`,
        [id],
      );
      if (open.length > 0) return false;
      const counts = await countsWith(client, id);
      await client.query(
        `UPDATE broadcasts SET status = 'finished', finished_at = now(), updated_at = now() WHERE id = $1`,
        [id],
      );
      await enqueue(client, BROADCASTER_OUTBOX, [
        audit('system', 'finish', id, {
          total: rows[0].total,
          sent: counts.sent,
          failed: counts.failed,
          blocked: counts.blocked,
          ambiguous: counts.ambiguous,
        }),
      ]);
      return true;
    });
  }

  async counts(id: string): Promise<Counts> {
    return countsWith(this.pool, id);
  }

  /** The final counters, kept on the campaign once its report is out (its recipients no longer change). */
  async recordReport(id: string, counts: Counts): Promise<void> {
    await this.pool.query(
      `UPDATE broadcasts SET report_sent = true, sent = $2, failed = $3, blocked = $4, ambiguous = $5, updated_at = now()
       WHERE id = $1`,
      [id, counts.sent, counts.failed, counts.blocked, counts.ambiguous],
    );
  }

  async setProgressMessage(id: string, chatId: string, messageId: number): Promise<void> {
    await this.pool.query(
      `UPDATE broadcasts SET progress_chat_id = $2, progress_message_id = $3, updated_at = now() WHERE id = $1`,
      [id, chatId, messageId],
    );
  }
}

async function countsWith(db: Pick<pg.Pool, 'query'>, id: string): Promise<Counts> {
  const { rows } = await db.query<{ status: keyof Counts; n: string; recent: string }>(
    `SELECT status, count(*) AS n,
            count(*) FILTER (WHERE done_at > now() - make_interval(secs => $2)) AS recent
     FROM broadcast_recipients WHERE broadcast_id = $1 GROUP BY status`,
    [id, RATE_WINDOW_S],
  );
  const counts: Counts = { pending: 0, sending: 0, sent: 0, failed: 0, blocked: 0, ambiguous: 0, recent: 0 };
  for (const row of rows) {
    counts[row.status] = Number(row.n);
    counts.recent += Number(row.recent);
  }
  return counts;
}

/** A campaign as the contract shows it; running ones are counted live, ended ones from their kept counters. */
export function progressOf(row: CampaignRow, counts: Counts | undefined, now = Date.now()): CampaignProgress {
  const c = counts ?? {
    pending: 0,
    sending: 0,
    sent: row.sent,
    failed: row.failed,
    blocked: row.blocked,
    ambiguous: row.ambiguous,
    recent: 0,
  };
  const running = row.status === 'running';
  const window = row.started_at ? Math.min(RATE_WINDOW_S, Math.max(1, (now - row.started_at.getTime()) / 1000)) : 1;
  const rate = running ? Math.round((c.recent / window) * 10) / 10 : 0;
  const left = row.total === null ? null : Math.max(0, row.total - c.sent - c.failed - c.blocked - c.ambiguous);
  return {
    campaignId: String(row.id),
    status: row.status,
    audience: row.audience,
    total: row.total,
    sent: c.sent,
    failed: c.failed,
    blocked: c.blocked,
    ambiguous: c.ambiguous,
    rate,
    etaSeconds: running && left !== null && rate > 0 ? Math.ceil(left / rate) : left === 0 ? 0 : null,
    paid: row.paid,
    createdBy: String(row.created_by),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}
