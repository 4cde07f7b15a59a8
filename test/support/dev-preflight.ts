// What `npm run dev` needs before it starts anything, each checked with a short timeout so a missing part is one
// line naming what to do (not a hang, not a stack trace): free ports, the Anvil binary, PostgreSQL (its database
// created when missing), Redis, and NATS with JetStream.
import { accessSync, constants } from 'node:fs';
import { Redis } from 'ioredis';
import { connect } from 'nats';
import { ensureDatabase } from '../../lib/migrate';
import { assertPortsFree, type WantedPort } from '../../lib/ports';
import { describeDatabaseFailure, displayUrl, StartupError } from '../../lib/startup-errors';
import { resolveAnvilBinary } from './anvil';
import type { Stores } from './dev-sandbox';

const TIMEOUT_MS = 3_000;

/** host:port of a URL, for messages. */
function endpoint(raw: string, defaultPort: number): string {
  try {
    const url = new URL(raw);
    return `${url.hostname}:${url.port || defaultPort}`;
  } catch {
    return raw;
  }
}

/** "nothing accepts connections at …" and friends, from a connection error's code. */
function unreachable(variable: string, raw: string, defaultPort: number, start: string, error: unknown): StartupError {
  const code = (error as { code?: unknown })?.code;
  const where = endpoint(raw, defaultPort);
  const shown = displayUrl(raw);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new StartupError(`${variable} (${shown}): the host of ${where} is not found; correct the host name`);
  if (code === 'ECONNREFUSED' || code === 'CONNECTION_REFUSED')
    return new StartupError(
      `${variable} (${shown}): nothing accepts connections at ${where}; ${start}, or set ${variable}`,
    );
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new StartupError(`${variable} (${shown}): no answer from ${where} (${message}); ${start}, or set ${variable}`);
}

export function checkAnvil(): void {
  let binary: string;
  try {
    binary = resolveAnvilBinary();
  } catch {
    throw new StartupError(
      'Anvil (the local chain) is not installed; run npm ci (it installs @foundry-rs/anvil), or set ANVIL_BIN to an anvil binary',
    );
  }
  try {
    accessSync(binary, constants.X_OK);
  } catch {
    throw new StartupError(
      `ANVIL_BIN: ${binary} is not an executable file; set ANVIL_BIN to an anvil binary, or unset it`,
    );
  }
}

/** Creates the database when it is missing; resolves true when it did. */
export async function checkPostgres(databaseUrl: string): Promise<boolean> {
  try {
    return await ensureDatabase(databaseUrl);
  } catch (error) {
    throw new StartupError(describeDatabaseFailure(error, databaseUrl));
  }
}

export async function checkRedis(redisUrl: string): Promise<void> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    connectTimeout: TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // ioredis rejects connect() with "Connection is closed"; the socket's own error (ECONNREFUSED …) comes as an event.
  let socketError: unknown;
  redis.on('error', (error) => (socketError ??= error));
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw unreachable('REDIS_URL', redisUrl, 6379, 'start Redis', socketError ?? error);
  } finally {
    redis.disconnect();
  }
}

export async function checkNats(natsUrl: string): Promise<void> {
  let nc;
  try {
    nc = await connect({ servers: natsUrl, timeout: TIMEOUT_MS, maxReconnectAttempts: 0 });
  } catch (error) {
    throw unreachable('NATS_URL', natsUrl, 4222, 'start nats-server -js', error);
  }
  try {
    const jsm = await nc.jetstreamManager({ timeout: TIMEOUT_MS });
    await jsm.getAccountInfo();
  } catch {
    throw new StartupError(
      `NATS_URL (${displayUrl(natsUrl)}): the NATS server answers without JetStream; start it with -js (JetStream on)`,
    );
  } finally {
    await nc.close();
  }
}

/** Every check; resolves with whether it created the database. Rejects with a StartupError (one line). */
export async function preflight(ports: WantedPort[], stores: Stores): Promise<{ createdDatabase: boolean }> {
  await assertPortsFree(ports);
  checkAnvil();
  const createdDatabase = await checkPostgres(stores.databaseUrl);
  await checkRedis(stores.redisUrl);
  await checkNats(stores.natsUrl);
  return { createdDatabase };
}
