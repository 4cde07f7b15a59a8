// `npm start`: validates the configuration, applies migrations, and runs the services named in SERVICES
// (all of them when empty) in one process on the NATS bus. `npm start -- --repl` opens the Moleculer REPL.
import { ConfigError, loadConfig, loadDotEnv } from '../lib/config';
import { migrateDatabase } from '../lib/migrate';
import { rootLogger } from '../lib/logger';
import { startNode } from '../lib/runtime';
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
if (process.env.SKIP_MIGRATIONS !== 'true') await migrateDatabase(config.DATABASE_URL);
const node = await startNode(config, selection.factories);
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
