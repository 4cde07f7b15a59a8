import { randomBytes } from 'node:crypto';
import { createDatabase, createPool, type Database } from '../../lib/db';
import { migrateDatabase } from '../../lib/migrate';

export const TEST_DATABASE_BASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/sigmatrade_test';

export interface TestDatabase extends Database {
  url: string;
  drop(): Promise<void>;
}

/**
 * A freshly migrated schema of its own, so specs can run in any order and side by side. `baseUrl` and `schema`
 * (scripts/dev.ts) name another database, which must exist, and the exact schema.
 */
export async function createTestDatabase(
  prefix = 't',
  options: { baseUrl?: string; schema?: string } = {},
): Promise<TestDatabase> {
  const schema = options.schema ?? `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const base = options.baseUrl ?? TEST_DATABASE_BASE_URL;
  if (!options.baseUrl) await ensureTestDatabase();
  const url = `${base}?schema=${schema}`;
  await migrateDatabase(url);
  const db = createDatabase(url, 20);
  return {
    ...db,
    url,
    async drop() {
      await db.close();
      const pool = createPool(base, 1);
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pool.end();
    },
  };
}

let ensured: Promise<void> | undefined;
function ensureTestDatabase(): Promise<void> {
  ensured ??= (async () => {
    const { ensureDatabase } = await import('../../lib/migrate');
    await ensureDatabase(TEST_DATABASE_BASE_URL);
  })();
  return ensured;
}
