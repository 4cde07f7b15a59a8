import type { MiddlewareFn } from 'telegraf';
import { commandOf } from '../commands';
import type { BotContext } from '../context';

export function logUpdates(): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const started = performance.now();
    const kind = ctx.updateType;
    // Only the bot's own command names: any other text that starts with "/" may be a financial password.
    const command = ctx.text?.startsWith('/') ? (commandOf(ctx.text) ?? 'other') : undefined;
    const data = ctx.callbackQuery && 'data' in ctx.callbackQuery ? ctx.callbackQuery.data : undefined;
    try {
      await next();
    } finally {
      // Never the message text itself: it may be anything a user typed.
      ctx.gateway.log.info({ kind, command, data, ms: Math.round(performance.now() - started) }, 'update handled');
    }
  };
}
