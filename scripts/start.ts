// `npm start`: validates the configuration, applies migrations, and runs the services named in SERVICES
// (all of them when empty) in one process on the NATS bus. `npm start -- --repl` opens the Moleculer REPL.
import { ConfigError, loadConfig, loadDotEnv } from '../lib/config';
import { migrateDatabase } from '../lib/migrate';
import { rootLogger } from '../lib/logger';
import { startNode } from '../lib/runtime';
import { describeDatabaseFailure, describeStartupFailure, isDatabaseError } from '../lib/startup-errors';
import { selectServices } from '../services';

loadDotEnv();
let config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    for (const problem of error.problems) console.error(`config: ${problem}`);
    process.exit(1);
  }
  throw error;
}
const log = rootLogger().child({ service: 'runner' });
let selection;
try {
  selection = selectServices(config.SERVICES);
} catch (error) {
  console.error(`config: ${(error as Error).message}`);
  process.exit(1);
}
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
  node = await startNode(config, selection.factories);
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
