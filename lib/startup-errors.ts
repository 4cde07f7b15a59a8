// A process that cannot start says so in one line that names what to fix, never with a stack trace.
import { scrub } from './logger';

/** The URL without its password (and without Prisma's ?schema=), for messages. */
export function displayUrl(raw: string): string {
  try {
    const url = new URL(raw);
    url.password = '';
    url.search = '';
    return url.toString();
  } catch {
    return '(unparsable URL)';
  }
}

interface PgLikeError {
  code?: string;
  message?: string;
  hostname?: string;
}

/** What went wrong talking to PostgreSQL at start-up (migrations, the first query), as one line. */
export function describeDatabaseFailure(error: unknown, databaseUrl: string): string {
  const e = (error ?? {}) as PgLikeError;
  const shown = displayUrl(databaseUrl);
  let where = shown;
  let database = '';
  let user = '';
  try {
    const url = new URL(databaseUrl);
    where = `${url.hostname}:${url.port || '5432'}`;
    database = decodeURIComponent(url.pathname.slice(1));
    user = decodeURIComponent(url.username);
  } catch {
    // shown as it is
  }
  const message = scrub(String(e.message ?? error)).split('\n')[0]!;
  switch (e.code) {
    case 'ECONNREFUSED':
      return `DATABASE_URL (${shown}): nothing accepts connections at ${where}; start PostgreSQL or correct the host and port`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `DATABASE_URL (${shown}): the host of ${where} is not found; correct the host name`;
    case 'ETIMEDOUT':
      return `DATABASE_URL (${shown}): no answer from ${where}; check the host, the port and the network`;
    case '3D000':
      // Said, not done: a mistyped name in production must not become an empty database the services then serve.
      return `DATABASE_URL (${shown}): database "${database}" does not exist; create it (npm run db:migrate creates and migrates it, or createdb -h ${where.split(':')[0]} -p ${where.split(':')[1]}${user ? ` -U ${user}` : ''} ${database}) or name an existing one`;
    case '28P01':
    case '28000':
      return `DATABASE_URL (${shown}): PostgreSQL refused user "${user}" (${message}); correct the user or password`;
    case '42501':
      return `DATABASE_URL (${shown}): user "${user}" lacks a permission the migrations need (${message})`;
  }
  if (/timeout/i.test(message))
    return `DATABASE_URL (${shown}): no answer from ${where} in time; check the host, the port and the network`;
  return `DATABASE_URL (${shown}): ${message}`;
}

/** Whether an error came from PostgreSQL: a server error (it carries a severity) or a failed connection to it. */
export function isDatabaseError(error: unknown, databaseUrl: string): boolean {
  const e = (error ?? {}) as { severity?: unknown; port?: unknown; message?: unknown };
  if (typeof e.severity === 'string') return true;
  try {
    const url = new URL(databaseUrl);
    if (e.port !== undefined && String(e.port) === (url.port || '5432')) return true;
  } catch {
    // not a URL: not recognisable either
  }
  return /connect to server|trying to connect/i.test(String(e.message ?? ''));
}

/** A start-up check that failed: its message is already the one line naming the variable to fix. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/** The error a broker's start ended with: Moleculer wraps what a service's started() threw. */
function rootCause(error: unknown): unknown {
  let cause = error;
  for (let i = 0; i < 5 && cause && typeof cause === 'object' && !(cause instanceof StartupError); i++) {
    const inner = (cause as { cause?: unknown; data?: { error?: unknown } }).cause;
    if (inner === undefined) break;
    cause = inner;
  }
  return cause;
}

/** Anything else that stopped the start, as one line (secrets scrubbed). */
export function describeStartupFailure(error: unknown): string {
  const cause = rootCause(error);
  if (cause instanceof StartupError) return scrub(cause.message).split('\n')[0]!;
  const message = error instanceof Error ? error.message : String(error);
  return scrub(message).split('\n')[0]!;
}
