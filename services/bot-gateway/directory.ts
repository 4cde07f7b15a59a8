// Read side of the users table for other services, plus the ban flag.
import type pg from 'pg';
import { normaliseAddress } from '../../lib/address';
import { USER_COLUMNS, toUserRecord, type UserRecord, type UserRow } from './user-record';

export const REFERRAL_LEVELS = [1, 2, 3] as const;

export async function findUser(pool: pg.Pool, userId: string): Promise<UserRecord | undefined> {
  const result = await pool.query<UserRow>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [userId]);
  return result.rows[0] ? toUserRecord(result.rows[0]) : undefined;
}

export interface Contact {
  userId: string;
  telegramId: string;
  languageCode: string | null;
  firstName: string | null;
}

export async function contactsOf(pool: pg.Pool, userIds: readonly string[]): Promise<Contact[]> {
  if (userIds.length === 0) return [];
  const result = await pool.query<{
    id: string;
    telegram_id: string;
    language_code: string | null;
    first_name: string | null;
  }>('SELECT id, telegram_id, language_code, first_name FROM users WHERE id = ANY($1::bigint[]) ORDER BY id', [
    [...new Set(userIds)],
  ]);
  return result.rows.map((row) => ({
    userId: String(row.id),
    telegramId: String(row.telegram_id),
    languageCode: row.language_code,
    firstName: row.first_name,
  }));
}

/** Registered owners of the given addresses (any case), keyed by checksummed address; others are left out. */
export async function ownersOfWallets(pool: pg.Pool, addresses: readonly string[]): Promise<Record<string, string>> {
  const normalised = new Set<string>();
  for (const address of addresses) {
    try {
      normalised.add(normaliseAddress(address));
    } catch {
      // not an address, so nobody's wallet
    }
  }
  if (normalised.size === 0) return {};
  const result = await pool.query<{ id: string; wallet_address: string }>(
    'SELECT id, wallet_address FROM users WHERE wallet_address = ANY($1::text[])',
    [[...normalised]],
  );
  return Object.fromEntries(result.rows.map((row) => [row.wallet_address, String(row.id)]));
}

export async function referralCounts(pool: pg.Pool, userId: string): Promise<{ level: number; count: number }[]> {
  const result = await pool.query<{ level: number; count: string }>(
    'SELECT level, count(*) AS count FROM referrals WHERE ancestor_id = $1 GROUP BY level',
    [userId],
  );
  const counts = new Map(result.rows.map((row) => [Number(row.level), Number(row.count)]));
  return REFERRAL_LEVELS.map((level) => ({ level, count: counts.get(level) ?? 0 }));
}

/** Sets the flag; the Telegram id it returns is what the bot's ban check keys on. */
export async function setBanned(
  pool: pg.Pool,
  userId: string,
  banned: boolean,
): Promise<{ telegramId: string } | undefined> {
  const result = await pool.query<{ telegram_id: string }>(
    'UPDATE users SET is_banned = $2, updated_at = now() WHERE id = $1 RETURNING telegram_id',
    [userId, banned],
  );
  return result.rows[0] ? { telegramId: String(result.rows[0].telegram_id) } : undefined;
}

export async function bannedTelegramIds(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ telegram_id: string }>('SELECT telegram_id FROM users WHERE is_banned');
  return result.rows.map((row) => String(row.telegram_id));
}
