// The admins' views of users (/user, /unreachable), built from plain data so they can be checked without Telegram.
import type { ResultOf, UserRecord, UsersActions } from '../../lib/contracts';
import { t, type Language } from '../../lib/i18n';
import { formatUtc } from './withdrawal-views';

/** What /user was asked for: a Telegram id or a username; undefined when it is neither. */
export type UserQuery = { telegramId: string } | { username: string };

const MAX_TELEGRAM_ID = 9_223_372_036_854_775_807n; // the users table keeps them as BIGINT

export function parseUserQuery(payload: string): UserQuery | undefined {
  const text = payload.trim();
  if (/^\d{1,19}$/.test(text)) return BigInt(text) <= MAX_TELEGRAM_ID ? { telegramId: text } : undefined;
  const name = /^@?([A-Za-z][A-Za-z0-9_]{0,31})$/.exec(text)?.[1];
  return name === undefined ? undefined : { username: name };
}

const orDash = (value: string | null) => value || '—';

export function userView(lang: Language, user: UserRecord): string {
  const yesNo = (value: boolean) => t(lang, value ? 'admin.user.yes' : 'admin.user.no');
  const reachability =
    user.unreachableAt === null
      ? t(lang, 'admin.user.reachable')
      : t(lang, 'admin.user.unreachable', {
          since: formatUtc(user.unreachableAt),
          reason: orDash(user.unreachableReason),
        });
  return t(lang, 'admin.user.view', {
    id: user.id,
    telegramId: user.telegramId,
    username: user.username ? `@${user.username}` : '—',
    name: orDash(user.firstName),
    language: orDash(user.languageCode),
    registered: formatUtc(user.createdAt),
    lastSeen: user.lastSeenAt ? formatUtc(user.lastSeenAt) : t(lang, 'admin.user.never'),
    wallet: user.walletAddress ?? t(lang, 'admin.user.no_wallet'),
    referrer: user.referrerId ? `#${user.referrerId}` : '—',
    password: yesNo(user.hasWithdrawalPassword),
    banned: yesNo(user.isBanned),
    reachability,
  });
}

export function unreachableView(lang: Language, summary: ResultOf<typeof UsersActions.unreachableSummary>): string {
  if (summary.count === 0) return t(lang, 'admin.reachability.none');
  const lines = summary.recent.map((user) =>
    t(lang, 'admin.reachability.line', {
      since: formatUtc(user.unreachableAt),
      id: user.userId,
      telegramId: user.telegramId,
      name: user.username ? `@${user.username}` : orDash(user.firstName),
      reason: orDash(user.reason),
    }),
  );
  return [
    t(lang, 'admin.reachability.title', { count: summary.count }),
    t(lang, 'admin.reachability.recent', { shown: summary.recent.length }),
    ...lines,
  ].join('\n');
}
