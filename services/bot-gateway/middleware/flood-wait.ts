// Telegram answers 429 with retry_after when the bot writes to one chat faster than about once a second.
// A reply to a user's own command is worth a short wait: the Bot API calls for one chat take turns (so
// concurrent updates of one user do not stampede after the same retry_after) and each waits out a 429.
import { TelegramError, type MiddlewareFn } from 'telegraf';
import type { BotContext } from '../context';

export interface FloodWaitOptions {
  /** Longer waits are not worth it: the call fails and the update's error handling takes over. */
  maxWaitSeconds: number;
  attempts: number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_FLOOD_WAIT: FloodWaitOptions = { maxWaitSeconds: 5, attempts: 3 };

/** Seconds Telegram asked to wait, for a 429; undefined for any other failure. */
export function retryAfterSeconds(error: unknown): number | undefined {
  if (!(error instanceof TelegramError) || error.code !== 429) return undefined;
  const seconds = error.parameters?.retry_after;
  return typeof seconds === 'number' && seconds >= 0 ? seconds : undefined;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function waitOutFloodLimits(options: FloodWaitOptions = DEFAULT_FLOOD_WAIT): MiddlewareFn<BotContext> {
  const sleep = options.sleep ?? defaultSleep;
  /** The last queued call per chat (settled or not); a new call starts after it. */
  const turns = new Map<number, Promise<unknown>>();

  return (ctx, next) => {
    // ctx.telegram belongs to this update alone, so wrapping it changes no other update's calls.
    const telegram = ctx.telegram;
    const callApi = telegram.callApi.bind(telegram);
    const chatId = ctx.chat?.id;

    const withRetries = async (args: Parameters<typeof callApi>) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await callApi(...args);
        } catch (error) {
          const wait = retryAfterSeconds(error);
          if (wait === undefined || wait > options.maxWaitSeconds || attempt >= options.attempts) throw error;
          ctx.gateway.log.info({ method: args[0], retry_after: wait }, 'Telegram flood limit; waiting');
          await sleep(wait * 1000);
        }
      }
    };

    telegram.callApi = ((...args: Parameters<typeof callApi>) => {
      if (chatId === undefined) return withRetries(args);
      const run = () => withRetries(args);
      const call = (turns.get(chatId) ?? Promise.resolve()).then(run, run);
      const settled = call.catch(() => undefined);
      turns.set(chatId, settled);
      void settled.then(() => {
        if (turns.get(chatId) === settled) turns.delete(chatId);
      });
      return call;
    }) as typeof telegram.callApi;
    return next();
  };
}
