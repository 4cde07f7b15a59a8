import pg from 'pg';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';

export { PrismaClient };
export type { Prisma } from '../generated/prisma/client';

export interface Database {
  prisma: PrismaClient;
  /** For hot paths written in SQL (the ledger's credit transaction); shares nothing with Prisma's pool. */
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

export function createPool(url: string, max = 10): pg.Pool {
  const { connectionString, schema } = parseDatabaseUrl(url);
  return new pg.Pool({ connectionString, max, options: `-c search_path="${schema}"` });
}

export function createDatabase(url: string, poolSize = 10): Database {
  const { connectionString, schema } = parseDatabaseUrl(url);
  const adapter = new PrismaPg({ connectionString, max: poolSize, options: `-c search_path="${schema}"` }, { schema });
  const prisma = new PrismaClient({ adapter });
  const pool = createPool(url, poolSize);
  return {
    prisma,
    pool,
    schema,
    async close() {
      await Promise.allSettled([prisma.$disconnect(), pool.end()]);
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
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = (error as { code?: string }).code;
      if (attempt < attempts && (code === '40001' || code === '40P01')) continue;
      throw error;
    } finally {
      client.release();
    }
  }
}
