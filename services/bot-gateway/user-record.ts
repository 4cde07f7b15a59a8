// How a user travels between services: ids as decimal strings (BIGINT in the database), dates as ISO text.

export interface UserRecord {
  id: string;
  telegramId: string;
  username: string | null;
  firstName: string | null;
  languageCode: string | null;
  walletAddress: string | null;
  referralCode: string;
  referrerId: string | null;
  isBanned: boolean;
  createdAt: string;
}

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
  created_at: Date;
}

export const USER_COLUMNS =
  'id, telegram_id, username, first_name, language_code, wallet_address, referral_code, referrer_id, is_banned, created_at';

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
    createdAt: row.created_at.toISOString(),
  };
}
