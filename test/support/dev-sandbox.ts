// What one `npm run dev` owns in the shared PostgreSQL, Redis and NATS: the schema dev_<id>, the Redis keys and
// JetStream streams of the namespace dev-<id> (removed in that order, so the schema is the last trace). While it
// runs it holds a PostgreSQL advisory lock on its id; the lock goes with its connection however the run ends
// (SIGKILL included), so the next run can tell the leftovers of a dead run (lock free) from those of one still
// running (lock held) and removes only the former.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createRedis, type Redis } from '../../lib/redis';
import { deleteNamespaceStreams } from './nats';
import { deleteNamespaceKeys } from './redis';

/** The first key of the two-int advisory lock form: "sigmatrade dev" (no other lock of the project uses it). */
const LOCK_CLASS = 0x5d3e;
const ID = /^[0-9a-f]{8}$/;

export const schemaOf = (id: string) => `dev_${id}`;
export const namespaceOf = (id: string) => `dev-${id}`;
/** The id's 32 bits as a signed int4, the lock's second key. */
const lockKey = (id: string) => Number.parseInt(id, 16) | 0;

export interface Stores {
  /** The database (no ?schema=) dev's schemas live in. */
  databaseUrl: string;
  redisUrl: string;
  natsUrl: string;
}

/** A new sandbox, locked for as long as this process keeps the connection. */
export async function claimSandbox(stores: Stores): Promise<{ id: string; release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: stores.databaseUrl });
  // The lock's connection may drop (PostgreSQL restarted): the run goes on; only its leftovers become fair game.
  client.on('error', () => undefined);
  await client.connect();
  const id = randomBytes(4).toString('hex');
  await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, lockKey(id)]);
  return {
    id,
    async release() {
      await client.end().catch(() => undefined);
    },
  };
}

/** Deletes the sandbox's JetStream streams, Redis keys and schema (the schema last: the others are found by it too). */
export async function removeSandbox(id: string, stores: Stores, parts: { pool?: pg.Pool; redis?: Redis } = {}) {
  const namespace = namespaceOf(id);
  await deleteNamespaceStreams(namespace, stores.natsUrl);
  const redis = parts.redis ?? createRedis(stores.redisUrl);
  try {
    await deleteNamespaceKeys(redis, namespace);
  } finally {
    if (!parts.redis) redis.disconnect();
  }
  const pool = parts.pool ?? new pg.Pool({ connectionString: stores.databaseUrl, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS "${schemaOf(id)}" CASCADE`);
  } finally {
    if (!parts.pool) await pool.end();
  }
}

/**
 * The ids of the dev sandboxes of this database. Advisory locks belong to a database, so only its own schemas are
 * judged by them; a run's streams and keys never outlive its schema (made before them, dropped after them).
 */
async function sandboxIds(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ nspname: string }>(
    "SELECT nspname FROM pg_namespace WHERE nspname ~ '^dev_[0-9a-f]{8}$'",
  );
  return rows.map((row) => row.nspname.slice(4)).filter((id) => ID.test(id));
}

/** Removes what dead dev runs left (their lock is free); returns their ids. Sandboxes of live runs stay. */
export async function sweepLeftovers(stores: Stores): Promise<string[]> {
  // Two connections: one holds a dead run's lock while the other removes its schema.
  const pool = new pg.Pool({ connectionString: stores.databaseUrl, max: 2 });
  const redis = createRedis(stores.redisUrl);
  const removed: string[] = [];
  try {
    for (const id of await sandboxIds(pool)) {
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ free: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS free', [
          LOCK_CLASS,
          lockKey(id),
        ]);
        if (!rows[0]!.free) continue; // its run is alive
        try {
          await removeSandbox(id, stores, { pool, redis });
          removed.push(id);
        } finally {
          await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, lockKey(id)]);
        }
      } finally {
        client.release();
      }
    }
  } finally {
    redis.disconnect();
    await pool.end();
  }
  return removed;
}
