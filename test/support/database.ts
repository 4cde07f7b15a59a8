import { randomBytes } from 'node:crypto';
import { createDatabase, createPool, type Database } from '../../lib/db';
import { migrateDatabase } from '../../lib/migrate';

export const TEST_DATABASE_BASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/sigmatrade_test';

export interface TestDatabase extends Database {
  url: string;
  drop(): Promise<void>;
}

/** A freshly migrated schema of its own, so specs can run in any order and side by side. */
export async function createTestDatabase(prefix = 't'): Promise<TestDatabase> {
  const schema = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await ensureTestDatabase();
  const url = `${TEST_DATABASE_BASE_URL}?schema=${schema}`;
  await migrateDatabase(url);
  const db = createDatabase(url, 20);
  return {
    ...db,
    url,
    async drop() {
      await db.close();
      const pool = createPool(TEST_DATABASE_BASE_URL, 1);
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
