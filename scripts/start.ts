// `npm start`: validates the configuration, applies migrations, and runs the services named in SERVICES
// (all of them when empty) in one process on the NATS bus. `npm start -- --repl` opens the Moleculer REPL.
import { ConfigError, loadDotEnv } from '../lib/config';
import { migrateDatabase } from '../lib/migrate';
import { rootLogger } from '../lib/logger';
import { startNode } from '../lib/runtime';
import { describeDatabaseFailure, describeStartupFailure, isDatabaseError } from '../lib/startup-errors';
// Only the code of the groups this process runs is loaded (services/groups.ts), not every service's.
import { loadGroups, loadServicesConfig, parseGroups } from '../services/groups';

loadDotEnv();
let selection;
let config;
try {
  // Only the variables of the services this process runs are needed (SERVICES=ledger needs no bot token).
  const groups = parseGroups(process.env.SERVICES ?? '');
  selection = { groups, services: await loadGroups(groups) };
  config = loadServicesConfig(selection.services);
} catch (error) {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) console.error(`config: ${problem}`);
  } else {
    console.error(`config: ${(error as Error).message}`);
  }
  process.exit(1);
}
const log = rootLogger().child({ service: 'runner' });
// Once running, a dependency that goes away makes the node not ready, never dead: nothing background may end it.
process.on('unhandledRejection', (reason) => log.error({ err: reason }, 'unhandled rejection (kept running)'));

if (process.env.SKIP_MIGRATIONS !== 'true') {
  try {
    await migrateDatabase(config.DATABASE_URL);
  } catch (error) {
    console.error(`start: ${describeDatabaseFailure(error, config.DATABASE_URL)}`);
    process.exit(1);
  }
}
let node;
try {
  node = await startNode(config, selection.services);
} catch (error) {
  console.error(
    `start: ${
      isDatabaseError(error, config.DATABASE_URL)
        ? describeDatabaseFailure(error, config.DATABASE_URL)
        : describeStartupFailure(error)
    }`,
  );
  process.exit(1);
}
log.info({ services: selection.groups }, 'SigmaTrade node started');

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
if (process.argv.includes('--repl')) await node.broker.repl();
