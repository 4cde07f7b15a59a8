import { pino, type Logger } from 'pino';

// Anything that could carry a credential is redacted wherever it appears in a log line, up to three levels deep.
const SECRET_KEYS = [
  'token',
  'password',
  'secret',
  'privateKey',
  'apiKey',
  'authorization',
  'DATABASE_URL',
  'REDIS_URL',
  'NATS_URL',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_WEBHOOK_SECRET',
  'BSC_RPC_URLS',
  '["x-telegram-bot-api-secret-token"]',
];
const REDACT = SECRET_KEYS.flatMap((key) => {
  const path = key.startsWith('[') ? key : `.${key}`;
  return [path.replace(/^\./, ''), `*${path}`, `*.*${path}`];
});

// Bot tokens (also inside Bot API URLs, /bot<token>/) and URL credentials hide inside free text too.
const TOKEN_IN_TEXT = /(?<!\d)\d{6,}:[A-Za-z0-9_-]{30,}/g;
const URL_CREDENTIALS = /(\/\/)[^/\s:@]*:[^/\s@]+@/g;

export function scrub(text: string): string {
  return text.replace(TOKEN_IN_TEXT, '[redacted-token]').replace(URL_CREDENTIALS, '$1[redacted]@');
}

function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return typeof error === 'string' ? scrub(error) : error;
  const serialized = pino.stdSerializers.err(error) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(serialized)) if (typeof value === 'string') serialized[key] = scrub(value);
  return serialized;
}

let root: Logger | undefined;

export function rootLogger(): Logger {
  root ??= pino({
    level: process.env.LOG_LEVEL ?? 'info',
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    redact: { paths: REDACT, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => scrubStrings(object),
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed: unknown[] = args.map((arg) => (typeof arg === 'string' ? scrub(arg) : arg));
        // Without a message, pino would copy the error's raw message into msg: give it the scrubbed one.
        const first = scrubbed[0];
        if (first instanceof Error)
          scrubbed.splice(0, 1, { err: first }, ...(scrubbed.length === 1 ? [scrub(first.message)] : []));
        else if (
          scrubbed.length === 1 &&
          first &&
          typeof first === 'object' &&
          (first as { err?: unknown }).err instanceof Error
        ) {
          scrubbed.push(scrub((first as { err: Error }).err.message));
        }
        method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
  });
  return root;
}

function scrubStrings(object: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(object)) if (typeof value === 'string') object[key] = scrub(value);
  return object;
}

/** A logger whose every line carries `service`; add `request_id` / `user_id` with `.child()` inside a request. */
export function serviceLogger(service: string): Logger {
  return rootLogger().child({ service });
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * A logger for Moleculer's log calls, which pass several arguments (`info('Channel prefix:', prefix)`): pino would
 * keep only the first string and drop the rest. Text arguments are joined into the message; an error becomes
 * `err`, other objects are merged into the line.
 */
export function moleculerLogger(logger: Logger): Record<(typeof LEVELS)[number], (...args: unknown[]) => void> {
  const write =
    (level: (typeof LEVELS)[number]) =>
    (...args: unknown[]) => {
      const fields: Record<string, unknown> = {};
      const words: string[] = [];
      // A failed start-up check (lib/startup-errors.ts) is the one line start.ts prints; Moleculer's own report of
      // it ("Unable to start all services", with the stack) is kept for debug.
      if (args.some((arg) => arg instanceof Error && arg.name === 'StartupError')) {
        const reason = args.find((arg): arg is Error => arg instanceof Error)!.message;
        logger.debug({ reason }, args.filter((arg) => typeof arg === 'string').join(' '));
        return;
      }
      for (const arg of args) {
        if (arg instanceof Error) fields.err ??= arg;
        else if (arg !== null && typeof arg === 'object') Object.assign(fields, arg);
        else words.push(String(arg));
      }
      logger[level](fields, words.join(' '));
    };
  return Object.fromEntries(LEVELS.map((level) => [level, write(level)])) as ReturnType<typeof moleculerLogger>;
}

export type { Logger };
