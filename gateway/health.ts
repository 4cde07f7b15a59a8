// Readiness: this node can serve only while the message bus, PostgreSQL and Redis all answer.
import type { ServiceBroker } from 'moleculer';
import type { Runtime } from '../lib/runtime';

export type Dependency = 'broker' | 'postgres' | 'redis';

export interface Readiness {
  status: 'ok' | 'unavailable';
  /** 'ok' or why the dependency failed. */
  checks: Record<Dependency, string>;
  failed: Dependency[];
}

const CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function probe(check: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(check(), CHECK_TIMEOUT_MS);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export async function readiness(broker: ServiceBroker, runtime: Pick<Runtime, 'db' | 'redis'>): Promise<Readiness> {
  const transit = (broker as unknown as { transit?: { connected?: boolean } }).transit;
  const [brokerState, postgres, redis] = await Promise.all([
    probe(async () => {
      if (transit && !transit.connected) throw new Error('not connected to the transporter');
    }),
    probe(() => runtime.db.pool.query('SELECT 1')),
    probe(async () => {
      const pong = await runtime.redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING answer ${pong}`);
    }),
  ]);
  const checks: Record<Dependency, string> = { broker: brokerState, postgres, redis };
  const failed = (Object.keys(checks) as Dependency[]).filter((name) => checks[name] !== 'ok');
  return { status: failed.length === 0 ? 'ok' : 'unavailable', checks, failed };
}
