import { loadDotEnv } from '../lib/config';
import { ensureDatabase, migrateDatabase } from '../lib/migrate';

loadDotEnv();
const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is required: PostgreSQL connection URL');
  process.exit(1);
}
try {
  await ensureDatabase(url);
  const { applied, alreadyApplied } = await migrateDatabase(url);
  console.log(
    `migrations: ${applied.length} applied${applied.length ? ` (${applied.join(', ')})` : ''}, ${alreadyApplied.length} already applied`,
  );
} catch (error) {
  console.error(`migration failed: ${(error as Error).message}`);
  process.exit(1);
}
