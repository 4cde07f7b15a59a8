// The bot's dialogs are about money (balances, wallets, financial passwords), so it talks in private chats only:
// added to a group, it says so once and leaves, and nothing is ever asked or shown in front of others.
import type { MiddlewareFn } from 'telegraf';
import { t } from '../../../lib/i18n';
import type { BotContext } from '../context';

export function privateChatsOnly(): MiddlewareFn<BotContext> {
  return async (ctx, next) => {
    const type = ctx.chat?.type;
    if (type === undefined || type === 'private') return next();
    const { log, lang } = ctx.gateway;
    log.info({ chat_type: type, chat_id: ctx.chat!.id }, 'update from a chat that is not private: leaving it');
    const text = t(lang, 'common.private_only');
    try {
      if (ctx.callbackQuery) await ctx.answerCbQuery(text, { show_alert: true });
      else await ctx.reply(text);
      await ctx.leaveChat();
    } catch (error) {
      log.warn({ err: error }, 'could not leave a chat that is not private');
    }
  };
}
