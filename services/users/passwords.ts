// The financial password that confirms every withdrawal: set once, stored as a scrypt hash (Node's crypto, salted,
// compared in constant time), locked for a while after repeated failures.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { Errors } from 'moleculer';
import type pg from 'pg';

const SCRYPT: ScryptOptions = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, SCRYPT, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** `scrypt$N$r$p$salt$key`, all base64 but the numbers. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, , , , salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

const COMMON = new Set([
  'password1',
  'password123',
  'qwerty123',
  'qwertyuiop1',
  '12345678a',
  'a12345678',
  'iloveyou1',
  'abc12345',
  'admin123',
  'letmein1',
  'welcome1',
  'sigmatrade1',
]);

export type PasswordWeakness = 'length' | 'letters_and_digits' | 'repetitive' | 'personal' | 'common';

/**
 * The complexity rules (seeds/000, module 35): 8 to 64 characters without surrounding spaces, letters and digits
 * both, not one character repeated or a run like 12345678, not the user's Telegram id or name, not a common one.
 */
export function passwordWeakness(password: string, personal: readonly (string | null)[]): PasswordWeakness | undefined {
  if (password.length < 8 || password.length > 64 || password.trim() !== password) return 'length';
  if (!/\p{L}/u.test(password) || !/\d/.test(password)) return 'letters_and_digits';
  if (new Set(password.toLowerCase()).size < 4 || /0123|1234|2345|3456|4567|5678|6789|abcd|qwer/i.test(password))
    return 'repetitive';
  const lower = password.toLowerCase();
  if (personal.some((word) => word && word.length >= 4 && lower.includes(word.toLowerCase()))) return 'personal';
  if (COMMON.has(lower)) return 'common';
  return undefined;
}

export interface PasswordPolicy {
  maxFailures: number;
  lockMs: number;
}

const refuse = (type: string, message: string, data: Record<string, unknown> = {}, code = 422) =>
  new Errors.MoleculerClientError(message, code, type, data);

export async function setWithdrawalPassword(pool: pg.Pool, userId: string, password: string): Promise<void> {
  const { rows } = await pool.query<{
    telegram_id: string;
    username: string | null;
    first_name: string | null;
    has: boolean;
  }>(
    'SELECT telegram_id::text, username, first_name, withdrawal_password_hash IS NOT NULL AS has FROM users WHERE id = $1',
    [userId],
  );
  const user = rows[0];
  if (!user) throw refuse('USER_NOT_FOUND', 'no such user', {}, 404);
  if (user.has) throw refuse('PASSWORD_ALREADY_SET', 'a financial password is already set', {}, 409);
  const weakness = passwordWeakness(password, [user.telegram_id, user.username, user.first_name]);
  if (weakness) throw refuse('PASSWORD_WEAK', 'the password does not meet the rules', { weakness });
  const hash = await hashPassword(password);
  const updated = await pool.query(
    'UPDATE users SET withdrawal_password_hash = $2, updated_at = now() WHERE id = $1 AND withdrawal_password_hash IS NULL',
    [userId, hash],
  );
  if (updated.rowCount !== 1) throw refuse('PASSWORD_ALREADY_SET', 'a financial password is already set', {}, 409);
}

/** Resolves when the password is right; refuses a wrong one (counting it) or any try while locked. */
export async function checkWithdrawalPassword(
  pool: pg.Pool,
  policy: PasswordPolicy,
  userId: string,
  password: string,
): Promise<void> {
  const { rows } = await pool.query<{ hash: string | null; locked_until: Date | null }>(
    'SELECT withdrawal_password_hash AS hash, password_locked_until AS locked_until FROM users WHERE id = $1',
    [userId],
  );
  const user = rows[0];
  if (!user) throw refuse('USER_NOT_FOUND', 'no such user', {}, 404);
  if (!user.hash) throw refuse('NO_PASSWORD', 'no financial password is set', {}, 409);
  if (user.locked_until && user.locked_until.getTime() > Date.now())
    throw refuse('PASSWORD_LOCKED', 'too many wrong passwords', { until: user.locked_until.toISOString() }, 423);
  if (await passwordMatches(password, user.hash)) {
    await pool.query('UPDATE users SET password_failures = 0, password_locked_until = NULL WHERE id = $1', [userId]);
    return;
  }
  const failed = await pool.query<{ failures: number; locked_until: Date | null }>(
    `UPDATE users SET password_failures = CASE WHEN password_failures + 1 >= $2 THEN 0 ELSE password_failures + 1 END,
       password_locked_until = CASE WHEN password_failures + 1 >= $2 THEN now() + $3 * interval '1 millisecond' END
     WHERE id = $1 RETURNING password_failures AS failures, password_locked_until AS locked_until`,
    [userId, policy.maxFailures, policy.lockMs],
  );
  const after = failed.rows[0]!;
  if (after.locked_until)
    throw refuse('PASSWORD_LOCKED', 'too many wrong passwords', { until: after.locked_until.toISOString() }, 423);
  throw refuse('PASSWORD_WRONG', 'the password is wrong', { attemptsLeft: policy.maxFailures - after.failures }, 403);
}
