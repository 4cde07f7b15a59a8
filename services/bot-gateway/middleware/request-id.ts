// First in the chain: one id per update, on ctx.state and on every log line of the update.
import { randomUUID } from 'node:crypto';
import type { MiddlewareFn } from 'telegraf';
import { DEFAULT_LANGUAGE, languageOf } from '../../../lib/i18n';
import type { Logger } from '../../../lib/logger';
import type { BotContext } from '../context';

export function requestId(log: Logger): MiddlewareFn<BotContext> {
  return (ctx, next) => {
    const id = randomUUID();
    const from = ctx.from;
    ctx.gateway.requestId = id;
    ctx.gateway.log = log.child({
      request_id: id,
      update_id: ctx.update.update_id,
      ...(from ? { telegram_id: String(from.id) } : {}),
    });
    ctx.gateway.lang = from ? languageOf(from.language_code) : DEFAULT_LANGUAGE;
    ctx.gateway.session = {};
    return next();
  };
}
