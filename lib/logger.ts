import { pino, type Logger } from 'pino';

// Anything that could carry a credential is redacted wherever it appears in a log line.
const REDACT = [
  '*.token',
  '*.password',
  '*.secret',
  '*.privateKey',
  '*.apiKey',
  '*.authorization',
  '*.DATABASE_URL',
  '*.REDIS_URL',
  '*.NATS_URL',
  '*.TELEGRAM_BOT_TOKEN',
  '*.TELEGRAM_WEBHOOK_SECRET',
  '*.BSC_RPC_URLS',
  'headers["x-telegram-bot-api-secret-token"]',
  '*.headers["x-telegram-bot-api-secret-token"]',
];

// Bot tokens and URL credentials also hide inside free text (error messages, URLs).
const TOKEN_IN_TEXT = /\b\d{6,}:[A-Za-z0-9_-]{30,}\b/g;
const URL_CREDENTIALS = /(\/\/)[^/\s:@]+:[^/\s@]+@/g;

export function scrub(text: string): string {
  return text.replace(TOKEN_IN_TEXT, '[redacted-token]').replace(URL_CREDENTIALS, '$1[redacted]@');
}

let root: Logger | undefined;

export function rootLogger(): Logger {
  root ??= pino({
    level: process.env.LOG_LEVEL ?? 'info',
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    redact: { paths: REDACT, censor: '[redacted]' },
    formatters: {
      level: (label) => ({ level: label }),
      log: (object) => scrubObject(object),
    },
    hooks: {
      logMethod(args, method) {
        method.apply(
          this,
          args.map((arg) => (typeof arg === 'string' ? scrub(arg) : arg)) as Parameters<typeof method>,
        );
      },
    },
  });
  return root;
}

function scrubObject(object: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(object)) {
    if (typeof value === 'string') object[key] = scrub(value);
    else if (value instanceof Error)
      object[key] = { type: value.name, message: scrub(value.message), stack: value.stack && scrub(value.stack) };
  }
  return object;
}

/** A logger whose every line carries `service`; add `request_id` / `user_id` with `.child()` inside a request. */
export function serviceLogger(service: string): Logger {
  return rootLogger().child({ service });
}

export type { Logger };
