// Readiness: this node can serve only while the message bus (NATS and its JetStream), PostgreSQL and Redis all
// answer. Each check is a round trip, not a flag: a connection object can look "connected" for the whole time the
// server behind it is gone.
import type { ServiceBroker } from 'moleculer';
import type { NatsConnection } from 'nats';
import { callAction, PayoutActions } from '../lib/contracts';
import { notReadyReasons } from '../lib/not-ready';
import type { Runtime } from '../lib/runtime';

export type Dependency = 'broker' | 'jetstream' | 'postgres' | 'redis';

export interface Readiness {
  status: 'ok' | 'unavailable';
  /** 'ok' or why the dependency failed. */
  checks: Record<Dependency, string>;
  failed: Dependency[];
  /**
   * Whether payouts are simulated (seed 004's DRY_RUN), as the payout service answers it; null while no payout
   * service answers. Shown, never a reason to be unready: the edge serves without payouts.
   */
  dryRun: boolean | null;
  /** What a service of this process still waits for (lib/not-ready.ts), e.g. Telegram; present only when any. */
  waiting?: Record<string, string>;
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

/** PING/PONG with the NATS server; a disconnected client queues the PING, so the timeout decides. */
async function natsRoundTrip(connection: NatsConnection | null | undefined, what: string): Promise<void> {
  if (!connection || connection.isClosed()) throw new Error(`${what} is not connected`);
  await connection.flush();
}

interface Internals {
  transit?: { connected?: boolean; tx?: { client?: NatsConnection | null } };
  channelAdapter?: {
    connection?: NatsConnection | null;
    manager?: { getAccountInfo(): Promise<unknown> } | null;
  };
}

export async function readiness(broker: ServiceBroker, runtime: Pick<Runtime, 'db' | 'redis'>): Promise<Readiness> {
  const { transit, channelAdapter } = broker as unknown as Internals;
  const [brokerState, jetstream, postgres, redis, dryRun] = await Promise.all([
    probe(async () => {
      if (!transit) return; // a broker without a transporter (one local process) has no bus to lose
      if (!transit.connected) throw new Error('not connected to the transporter');
      await natsRoundTrip(transit.tx?.client, 'the NATS transporter');
    }),
    probe(async () => {
      if (!channelAdapter) return;
      await natsRoundTrip(channelAdapter.connection, 'the JetStream channel adapter');
      if (!channelAdapter.manager) throw new Error('the JetStream manager is not ready');
      // Answered by JetStream itself: a NATS server that lost JetStream (or its quorum) fails here.
      await channelAdapter.manager.getAccountInfo();
    }),
    probe(() => runtime.db.pool.query('SELECT 1')),
    probe(async () => {
      const pong = await runtime.redis.ping();
      if (pong !== 'PONG') throw new Error(`unexpected PING answer ${pong}`);
    }),
    // Asked only where a payout node is known: a call to nobody would log a warning at every probe.
    broker.registry.getActionEndpoints(PayoutActions.status.name)?.hasAvailable()
      ? callAction(broker, PayoutActions.status, {}, { timeout: CHECK_TIMEOUT_MS, retries: 0 }).then(
          (status) => status.dryRun,
          () => null,
        )
      : null,
  ]);
  const checks: Record<Dependency, string> = { broker: brokerState, jetstream, postgres, redis };
  const failed = (Object.keys(checks) as Dependency[]).filter((name) => checks[name] !== 'ok');
  const waiting = notReadyReasons();
  const ready = failed.length === 0 && Object.keys(waiting).length === 0;
  return {
    status: ready ? 'ok' : 'unavailable',
    checks,
    failed,
    dryRun,
    ...(Object.keys(waiting).length > 0 ? { waiting } : {}),
  };
}
