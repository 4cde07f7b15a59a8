// Applies prisma/migrations/*/migration.sql in order and records each in `_prisma_migrations` the way
// `prisma migrate deploy` does, so an operator with Prisma's schema engine can use either tool.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPool, parseDatabaseUrl } from './db';

const PRISMA_ADVISORY_LOCK = 72707369;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export async function migrateDatabase(
  databaseUrl: string,
  migrationsDir = 'prisma/migrations',
): Promise<MigrationResult> {
  // A migration may rightly take long (an index on a big table): no query timeout here.
  const pool = createPool(databaseUrl, 1, undefined, 0);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${parseDatabaseUrl(databaseUrl).schema}"`);
    await client.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
      "id" VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum" VARCHAR(64) NOT NULL,
      "finished_at" TIMESTAMPTZ,
      "migration_name" VARCHAR(255) NOT NULL,
      "logs" TEXT,
      "rolled_back_at" TIMESTAMPTZ,
      "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count" INTEGER NOT NULL DEFAULT 0)`);
    const recorded = (
      await client.query<{
        migration_name: string;
        checksum: string;
        finished_at: Date | null;
        rolled_back_at: Date | null;
      }>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"')
    ).rows;
    const failed = recorded.find((row) => !row.finished_at && !row.rolled_back_at);
    if (failed) throw new Error(`migration ${failed.migration_name} failed earlier; resolve it before migrating again`);

    const names = (await readdir(migrationsDir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    for (const name of names) {
      const sql = await readFile(join(migrationsDir, name, 'migration.sql'), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const done = recorded.find((row) => row.migration_name === name && row.finished_at);
      if (done) {
        if (done.checksum !== checksum) throw new Error(`migration ${name} was changed after it was applied`);
        result.alreadyApplied.push(name);
        continue;
      }
      const id = randomUUID();
      await client.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name) VALUES ($1, $2, $3)', [
        id,
        checksum,
        name,
      ]);
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query(
          'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
          [id],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        // The migration ran in a transaction, so nothing of it is left: record it as rolled back, not stuck.
        await client.query('UPDATE "_prisma_migrations" SET logs = $2, rolled_back_at = now() WHERE id = $1', [
          id,
          String((error as Error).message),
        ]);
        throw new Error(`migration ${name} failed: ${(error as Error).message}`);
      }
      result.applied.push(name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]).catch(() => undefined);
    client.release();
    await pool.end();
  }
}

/** Creates the database named in the URL when it does not exist yet (a fresh machine's first run); true if it did. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!name) return false;
  url.pathname = '/postgres';
  url.searchParams.delete('schema');
  const pool = createPool(url.toString(), 1);
  try {
    const exists = await pool.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount !== 0) return false;
    await pool.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== '42P04') throw error;
    return false;
  } finally {
    await pool.end();
  }
}
