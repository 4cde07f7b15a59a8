// Transactional outbox: a message is inserted in the same transaction as the state change it announces, then a
// relay publishes it to JetStream and deletes it. A crash between the two re-publishes (consumers are idempotent);
// JetStream's msgID de-duplication absorbs most of those repeats.
// Each owning service has its own outbox table (id BIGSERIAL, channel TEXT, payload JSONB, created_at) and passes
// its name; messages are built with outboxMessage() from lib/contracts, so each is checked against its channel.
import type pg from 'pg';
import type { OutboxMessage } from './contracts';
import type { Logger } from './logger';
import { channelPublisher } from './channels';
import { OutageLog } from './outage-log';
import { channelAdapter } from './runtime';

export type { OutboxMessage };

/** The name of a service's outbox table (interpolated into SQL, so only a plain identifier). */
export type OutboxTable = string;

function checkedTable(table: OutboxTable): string {
  if (!/^[a-z][a-z0-9_]*_outbox$/.test(table)) throw new Error(`not an outbox table name: "${table}"`);
  return table;
}

/** One statement for any number of messages (one JSON array), prepared once per connection, ids in message order. */
export async function enqueue(client: pg.PoolClient, table: OutboxTable, messages: OutboxMessage[]): Promise<void> {
  checkedTable(table);
  if (messages.length === 0) return;
  await client.query({
    name: `outbox.enqueue.${table}`,
    text: `INSERT INTO "${table}" (channel, payload)
           SELECT m->>'channel', m->'payload' FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(m, n) ORDER BY n`,
    values: [JSON.stringify(messages.map((m) => ({ channel: m.channel, payload: m.payload })))],
  });
}

export interface OutboxRelayOptions {
  pool: pg.Pool;
  table: OutboxTable;
  /** Must resolve only once the broker has stored the message (JetStream publish ack). */
  publish(channel: string, payload: object, msgID: string): Promise<void>;
  log: Logger;
  batchSize?: number;
  idleIntervalMs?: number;
}

export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private readonly outage: OutageLog;

  constructor(private readonly options: OutboxRelayOptions) {
    checkedTable(options.table);
    this.outage = new OutageLog(options.log, `outbox relay of ${options.table}`);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** Called after a commit that enqueued messages, so they leave now rather than at the next tick. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(delay: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.loop().finally(() => {
        this.running = undefined;
      });
    }, delay);
  }

  private async loop(): Promise<void> {
    let failed = false;
    try {
      do {
        this.again = false;
        while (!this.stopped && (await this.drainOnce()) === (this.options.batchSize ?? 200));
      } while (this.again && !this.stopped);
      this.outage.succeeded();
    } catch (error) {
      failed = true;
      this.outage.failed(error, { table: this.options.table });
    }
    if (!this.stopped) this.schedule(failed ? 1000 : (this.options.idleIntervalMs ?? 500));
  }

  /** Publishes one batch in order; returns how many were sent. */
  async drainOnce(): Promise<number> {
    const { pool, table, publish } = this.options;
    const client = await pool.connect();
    let broken = false;
    let publishing = false;
    try {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string; channel: string; payload: object }>(
        `SELECT id, channel, payload FROM "${table}" ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.options.batchSize ?? 200],
      );
      const sent: string[] = [];
      try {
        for (const row of rows) {
          // The message's natural key, so a re-publish is recognised even if outbox ids ever repeat (a restore).
          const key = (row.payload as { id?: unknown }).id;
          publishing = true;
          await publish(row.channel, row.payload, typeof key === 'string' ? key : `${table}:${row.id}`);
          publishing = false;
          sent.push(row.id);
        }
      } finally {
        if (sent.length > 0) await client.query(`DELETE FROM "${table}" WHERE id = ANY($1::bigint[])`, [sent]);
        await client.query('COMMIT');
      }
      return sent.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // A query that failed without the server's answer (a lost connection, a timeout): the client is not reused.
      broken = !publishing && typeof (error as { severity?: unknown }).severity !== 'string';
      throw error;
    } finally {
      client.release(broken);
    }
  }
}

/** A service's outbox relay publishing to its broker's JetStream channels, started. */
export function startOutboxRelay(
  broker: Parameters<typeof channelAdapter>[0],
  pool: pg.Pool,
  table: OutboxTable,
  log: Logger,
): OutboxRelay {
  const relay = new OutboxRelay({ pool, table, log, publish: channelPublisher(channelAdapter(broker)) });
  relay.start();
  return relay;
}
