// Admin authorisation: the sender's Telegram id is in ADMIN_TELEGRAM_IDS (roles and an admin menu come later).
import type { MiddlewareFn } from 'telegraf';
import type { BotContext } from '../context';

export function authoriseAdmins(adminIds: readonly string[]): MiddlewareFn<BotContext> {
  const admins = new Set(adminIds);
  return (ctx, next) => {
    ctx.gateway.isAdmin = ctx.from !== undefined && admins.has(String(ctx.from.id));
    if (ctx.gateway.isAdmin) ctx.gateway.log = ctx.gateway.log.child({ admin: true });
    return next();
  };
}
