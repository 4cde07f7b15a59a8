// How a user travels between services (lib/contracts UserRecord): ids as decimal strings, dates as ISO text.
import type { UserRecord } from '../../lib/contracts';
import type { UserModel } from '../../generated/prisma/models';

export type { UserRecord };

/** A users row as SQL returns it (registration reads it back from its INSERT … RETURNING). */
export interface UserRow {
  id: string;
  telegram_id: string;
  username: string | null;
  first_name: string | null;
  language_code: string | null;
  wallet_address: string | null;
  referral_code: string;
  referrer_id: string | null;
  is_banned: boolean;
  wallet_changed_at: Date | null;
  has_password: boolean;
  created_at: Date;
  last_seen_at: Date | null;
  unreachable_at: Date | null;
  unreachable_reason: string | null;
}

export const USER_COLUMNS =
  'id, telegram_id, username, first_name, language_code, wallet_address, referral_code, referrer_id, is_banned, ' +
  'wallet_changed_at, withdrawal_password_hash IS NOT NULL AS has_password, created_at, last_seen_at, unreachable_at, ' +
  'unreachable_reason';

export function toUserRecord(row: UserRow): UserRecord {
  return {
    id: String(row.id),
    telegramId: String(row.telegram_id),
    username: row.username,
    firstName: row.first_name,
    languageCode: row.language_code,
    walletAddress: row.wallet_address,
    referralCode: row.referral_code,
    referrerId: row.referrer_id === null ? null : String(row.referrer_id),
    isBanned: row.is_banned,
    walletChangedAt: row.wallet_changed_at?.toISOString() ?? null,
    hasWithdrawalPassword: row.has_password,
    createdAt: row.created_at.toISOString(),
    lastSeenAt: row.last_seen_at?.toISOString() ?? null,
    unreachableAt: row.unreachable_at?.toISOString() ?? null,
    unreachableReason: row.unreachable_reason,
  };
}

/** The same record from Prisma's model (plain reads go through Prisma). */
export function userRecordOf(user: UserModel): UserRecord {
  return {
    id: user.id.toString(),
    telegramId: user.telegramId.toString(),
    username: user.username,
    firstName: user.firstName,
    languageCode: user.languageCode,
    walletAddress: user.walletAddress,
    referralCode: user.referralCode,
    referrerId: user.referrerId === null ? null : user.referrerId.toString(),
    isBanned: user.isBanned,
    walletChangedAt: user.walletChangedAt?.toISOString() ?? null,
    hasWithdrawalPassword: user.withdrawalPasswordHash !== null,
    createdAt: user.createdAt.toISOString(),
    lastSeenAt: user.lastSeenAt?.toISOString() ?? null,
    unreachableAt: user.unreachableAt?.toISOString() ?? null,
    unreachableReason: user.unreachableReason,
  };
}
