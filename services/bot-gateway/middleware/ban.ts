// One Redis EXISTS per update: bot-gateway mirrors users.is_banned into `ban:<telegramId>` (ban-mirror.ts).
import type { MiddlewareFn } from 'telegraf';
import { t } from '../../../lib/i18n';
import type { Redis } from '../../../lib/redis';
import type { BotContext } from '../context';
import type { GatewayKeys } from '../redis-keys';

export function refuseBanned(redis: Redis, keys: GatewayKeys): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    if (!ctx.from) return next();
    let banned = false;
    try {
      banned = (await redis.exists(keys.ban(ctx.from.id))) === 1;
    } catch (error) {
      ctx.gateway.log.warn({ err: error }, 'ban check failed; letting the update through');
    }
    if (!banned) return next();
    ctx.gateway.log.info('update from a banned user refused');
    const text = t(ctx.gateway.lang, 'common.banned');
    if (ctx.callbackQuery) await ctx.answerCbQuery(text, { show_alert: true });
    else if (ctx.chat) await ctx.reply(text);
  };
}
