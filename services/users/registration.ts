// Registration on /start: exactly one row per Telegram user however many /start arrive at once, and the
// referral links (users.referrer_id plus the flattened `referrals` rows) written in the same transaction.
import type pg from 'pg';
import { looksLikeReferralCode, type ReferralOutcome, type Registration, type Upline } from '../../lib/contracts';
import { inTransaction, type Database } from '../../lib/db';
import { findByTelegramId } from './directory';
import { generateReferralCode } from './referral-code';
import { planUplines } from './uplines';
import { USER_COLUMNS, toUserRecord, type UserRecord, type UserRow } from './user-record';

export interface Profile {
  telegramId: string;
  username?: string | null;
  firstName?: string | null;
  languageCode?: string | null;
}

const CODE_ATTEMPTS = 10;

export async function registerUser(
  { pool, prisma }: Pick<Database, 'pool' | 'prisma'>,
  profile: Profile,
  referralCode: string | null | undefined,
  maxDepth: number,
  newCode: () => string = generateReferralCode,
): Promise<Registration> {
  const code = referralCode?.trim() || undefined;

  // Returning users (the common case) cost one query and never take a lock.
  const existing = await findByTelegramId(prisma, profile.telegramId);
  if (existing) return returning(pool, existing, profile, code);

  for (let attempt = 1; attempt <= CODE_ATTEMPTS; attempt++) {
    const outcome = await inTransaction(pool, async (client) => {
      const inviter = code && looksLikeReferralCode(code) ? await findInviter(client, code) : undefined;
      const inserted = await client.query<UserRow>(
        // Registering is writing to the bot: seen from the start (the bot's report of it may come first and miss).
        `INSERT INTO users (telegram_id, username, first_name, language_code, referral_code, referrer_id, last_seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())
         ON CONFLICT DO NOTHING
         RETURNING ${USER_COLUMNS}`,
        [
          profile.telegramId,
          profile.username ?? null,
          profile.firstName ?? null,
          profile.languageCode ?? null,
          newCode(),
          inviter?.id ?? null,
        ],
      );
      const row = inserted.rows[0];
      if (!row) return undefined; // a concurrent /start won, or (rarely) the code collided: decided below
      if (!code) return { user: toUserRecord(row), created: true, referral: 'none' } satisfies Registration;
      if (!inviter) return { user: toUserRecord(row), created: true, referral: 'unknown' } satisfies Registration;

      const inviterUplines = await uplinesOf(client, inviter.id);
      const plan = planUplines(row.id, inviter.id, inviterUplines, maxDepth);
      if (plan.kind !== 'linked') {
        // Not reachable for a brand-new user (nobody can have invited them yet); kept so the rule holds anyway.
        const unlinked = await client.query<UserRow>(
          `UPDATE users SET referrer_id = NULL WHERE id = $1 RETURNING ${USER_COLUMNS}`,
          [row.id],
        );
        return { user: toUserRecord(unlinked.rows[0]!), created: true, referral: plan.kind } satisfies Registration;
      }
      await client.query(
        `INSERT INTO referrals (user_id, level, ancestor_id)
         SELECT $1, level, ancestor_id FROM unnest($2::smallint[], $3::bigint[]) AS u(level, ancestor_id)`,
        [row.id, plan.uplines.map((u) => u.level), plan.uplines.map((u) => u.userId)],
      );
      return { user: toUserRecord(row), created: true, referral: 'linked' } satisfies Registration;
    });
    if (outcome) return outcome;

    // READ COMMITTED: this statement sees the row the concurrent /start committed.
    const winner = await findByTelegramId(prisma, profile.telegramId);
    if (winner) return returning(pool, winner, profile, code);
  }
  throw new Error(`could not find a free referral code in ${CODE_ATTEMPTS} attempts`);
}

/** A user who exists already is never re-linked; the answer only says why a link they clicked did nothing. */
async function returning(
  pool: pg.Pool,
  user: UserRecord,
  profile: Profile,
  code: string | undefined,
): Promise<Registration> {
  const refreshed = await refreshProfile(pool, user, profile);
  let referral: ReferralOutcome = 'none';
  if (code && code === user.referralCode) referral = 'self';
  else if (code && !(looksLikeReferralCode(code) && (await findInviter(pool, code)))) referral = 'unknown';
  return { user: refreshed, created: false, referral };
}

/** Keeps name and language current (the notifier writes in the user's language). */
async function refreshProfile(pool: pg.Pool, user: UserRecord, profile: Profile): Promise<UserRecord> {
  const next = {
    username: profile.username === undefined ? user.username : profile.username,
    firstName: profile.firstName === undefined ? user.firstName : profile.firstName,
    languageCode: profile.languageCode === undefined ? user.languageCode : profile.languageCode,
  };
  if (next.username === user.username && next.firstName === user.firstName && next.languageCode === user.languageCode)
    return user;
  const updated = await pool.query<UserRow>(
    `UPDATE users SET username = $2, first_name = $3, language_code = $4, updated_at = now() WHERE id = $1 RETURNING ${USER_COLUMNS}`,
    [user.id, next.username, next.firstName, next.languageCode],
  );
  return updated.rows[0] ? toUserRecord(updated.rows[0]) : user;
}

async function findInviter(db: pg.Pool | pg.PoolClient, code: string): Promise<{ id: string } | undefined> {
  const result = await db.query<{ id: string }>('SELECT id FROM users WHERE referral_code = $1', [code]);
  return result.rows[0];
}

export async function uplinesOf(db: pg.Pool | pg.PoolClient, userId: string): Promise<Upline[]> {
  const result = await db.query<{ level: number; ancestor_id: string }>(
    'SELECT level, ancestor_id FROM referrals WHERE user_id = $1 ORDER BY level',
    [userId],
  );
  return result.rows.map((row) => ({ level: Number(row.level), userId: String(row.ancestor_id) }));
}
