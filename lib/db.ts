import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';
import { serviceLogger, type Logger } from './logger';

export { PrismaClient };
export type { Prisma } from '../generated/prisma/client';

export interface Database {
  prisma: PrismaClient;
  /** For hot paths written in SQL (the ledger's credit transaction); Prisma runs on the same pool. */
  pool: pg.Pool;
  schema: string;
  close(): Promise<void>;
}

// NUMERIC and BIGINT come back as strings from pg; money code converts them with BigInt().
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => value);

/** Splits Prisma's `?schema=` convention off a PostgreSQL URL. */
export function parseDatabaseUrl(url: string): { connectionString: string; schema: string } {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema') ?? 'public';
  parsed.searchParams.delete('schema');
  if (!/^[a-z_][a-z0-9_]*$/i.test(schema)) throw new Error(`invalid schema name "${schema}" in DATABASE_URL`);
  return { connectionString: parsed.toString(), schema };
}

/** How long a new connection may take before the attempt fails (instead of hanging on an unreachable host). */
const CONNECT_TIMEOUT_MS = 5_000;
/**
 * No query of the services runs this long; one that does sits on a connection whose server is gone without a word
 * (a partition, a failover to another address), which TCP keepalive alone would notice only after minutes.
 */
const QUERY_TIMEOUT_MS = 60_000;

/**
 * A pool that survives PostgreSQL going away: a connection terminated by the server (a restart, a failover,
 * `pg_terminate_backend`) emits 'error' on its client, idle or checked out, and an 'error' event nobody listens
 * to would end the process. Each client gets a listener for its whole life; the pool drops broken clients and
 * connects afresh on the next query.
 */
export function createPool(
  url: string,
  max = 10,
  log: Logger = serviceLogger('db'),
  queryTimeoutMs: number | undefined = QUERY_TIMEOUT_MS,
): pg.Pool {
  const { connectionString, schema } = parseDatabaseUrl(url);
  const pool = new pg.Pool({
    connectionString,
    max,
    options: `-c search_path="${schema}"`,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(queryTimeoutMs ? { query_timeout: queryTimeoutMs } : {}),
  });
  pool.on('connect', (client) => {
    client.on('error', (error) => log.warn({ err: error }, 'PostgreSQL connection lost'));
  });
  pool.on('error', () => {
    // Already logged by the client's own listener; the pool removes the client.
  });
  return pool;
}

export function createDatabase(url: string, poolSize = 10): Database {
  const { schema } = parseDatabaseUrl(url);
  const pool = createPool(url, poolSize);
  // Prisma shares the pool, so one set of connections (and one error policy) serves both. It is made on first use:
  // services on plain SQL (broadcaster, notifier, …) never pay its memory.
  let prisma: PrismaClient | undefined;
  return {
    get prisma() {
      prisma ??= new PrismaClient({ adapter: new PrismaPg(pool, { schema }) });
      return prisma;
    },
    pool,
    schema,
    async close() {
      await prisma?.$disconnect().catch(() => undefined);
      if (!pool.ended) await pool.end();
    },
  };
}

/** Runs `work` in one transaction on a pooled connection; retries serialization failures and deadlocks. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (client: pg.PoolClient) => Promise<T>,
  attempts = 5,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // Not an answer from the server (a lost connection, a timeout): the client is not reused.
      broken = typeof (error as { severity?: unknown }).severity !== 'string';
      const code = (error as { code?: string }).code;
      if (attempt < attempts && (code === '40001' || code === '40P01')) continue;
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
