// The admins' user commands (ADMIN_TELEGRAM_IDS only, like those of admin.ts): /user <telegram id | @username> shows
// a user's record with their reachability; /unreachable counts the users Telegram refuses delivery to.
import { t } from '../../../lib/i18n';
import type { BotContext } from '../context';
import { parseUserQuery, unreachableView, userView } from '../user-views';
import { say, type BotDeps } from './common';

export const UNREACHABLE_SHOWN = 10;

export async function showUser(ctx: BotContext, deps: BotDeps, payload: string): Promise<void> {
  const { lang, requestId } = ctx.gateway;
  const query = parseUserQuery(payload);
  if (!query) return say(ctx, t(lang, 'admin.user.usage'));
  const user =
    'telegramId' in query
      ? await deps.backend.userByTelegramId(query.telegramId, requestId)
      : await deps.backend.userByUsername(query.username, requestId);
  if (!user) {
    const who = 'telegramId' in query ? query.telegramId : `@${query.username}`;
    return say(ctx, t(lang, 'admin.user.not_found', { who }));
  }
  await say(ctx, userView(lang, user));
}

export async function showUnreachable(ctx: BotContext, deps: BotDeps, payload: string): Promise<void> {
  const { lang, requestId } = ctx.gateway;
  if (payload.trim() !== '') return say(ctx, t(lang, 'admin.reachability.usage'));
  await say(ctx, unreachableView(lang, await deps.backend.unreachableSummary(UNREACHABLE_SHOWN, requestId)));
}
