// `npm run repl -- --namespace <ns>`: a Moleculer REPL attached to a running system (an `npm run dev`, or `npm start`
// nodes): a broker with no services of its own on the same NATS transporter and namespace, so `services`, `nodes`
// and `call ledger.check` reach the system's nodes. `quit` (or Ctrl-D) leaves it. NATS_URL and NAMESPACE are read
// from the environment (and .env, as npm start reads it) unless --nats and --namespace are given.
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { ServiceBroker } from 'moleculer';
import { loadDotEnv } from '../lib/config';

loadDotEnv();
let values;
try {
  ({ values } = parseArgs({
    options: { namespace: { type: 'string' }, nats: { type: 'string' } },
    strict: true,
  }));
} catch (error) {
  console.error(`repl: ${(error as Error).message}; usage: npm run repl -- --namespace <ns> [--nats <url>]`);
  process.exit(1);
}
const namespace = values.namespace ?? (process.env.NAMESPACE || 'sigmatrade');
const url = values.nats ?? (process.env.NATS_URL || 'nats://127.0.0.1:4222');

const broker = new ServiceBroker({
  namespace,
  nodeID: `repl-${hostname()}-${process.pid}`,
  // The system's transporter and serializer: anything else and the nodes would not understand each other.
  transporter: { type: 'NATS', options: { url, maxReconnectAttempts: 0 } },
  serializer: 'JSON',
  logger: { type: 'Console', options: { level: 'warn' } },
  // Ctrl-C is the REPL's own (it clears the line); quit or Ctrl-D stop the broker and exit.
  skipProcessEventRegistration: true,
});
try {
  await broker.start();
} catch (error) {
  console.error(`repl: NATS_URL (${url}): ${(error as Error).message.split('\n')[0]}; start NATS or pass --nats`);
  process.exit(1);
}
// Let the system's nodes announce themselves before the first command.
await new Promise((resolve) => setTimeout(resolve, 500));
const nodes = broker.registry.nodes.list({ onlyAvailable: true, withServices: false }).filter((n) => !n.local);
console.log(
  `Moleculer REPL on namespace ${namespace} (${url}): ${nodes.length} node(s) seen; try "services", "call ledger.check", "quit"`,
);
await broker.repl();
