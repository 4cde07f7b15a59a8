// A user's deposit wallet: one user per address (unique index), never the system wallet, always stored checksummed.
import type pg from 'pg';
import { AddressError, normaliseAddress } from '../../lib/address';

export type WalletRefusal =
  | { code: 'INVALID_ADDRESS'; reason: AddressError['reason'] }
  | { code: 'ADDRESS_IS_SYSTEM_WALLET' }
  | { code: 'WALLET_TAKEN' }
  | { code: 'USER_NOT_FOUND' };

export type WalletResult = { ok: true; address: string } | { ok: false; refusal: WalletRefusal };

/** Checks an address typed by a user; the checksummed form or why it cannot be anyone's deposit wallet. */
export function checkWalletAddress(input: string, systemWallet: string): WalletResult {
  let address: string;
  try {
    address = normaliseAddress(input);
  } catch (error) {
    if (error instanceof AddressError) return { ok: false, refusal: { code: 'INVALID_ADDRESS', reason: error.reason } };
    throw error;
  }
  if (address === normaliseAddress(systemWallet)) return { ok: false, refusal: { code: 'ADDRESS_IS_SYSTEM_WALLET' } };
  return { ok: true, address };
}

const UNIQUE_VIOLATION = '23505';

export async function assignWallet(
  pool: pg.Pool,
  userId: string,
  input: string,
  systemWallet: string,
): Promise<WalletResult> {
  const checked = checkWalletAddress(input, systemWallet);
  if (!checked.ok) return checked;
  try {
    const updated = await pool.query<{ id: string }>(
      // Replacing a registered wallet starts the withdrawal cooldown (an account takeover would start here).
      `UPDATE users SET wallet_address = $2, updated_at = now(),
         wallet_changed_at = CASE WHEN wallet_address IS NOT NULL AND wallet_address <> $2 THEN now() ELSE wallet_changed_at END
       WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM users WHERE wallet_address = $2 AND id <> $1)
       RETURNING id`,
      [userId, checked.address],
    );
    if (updated.rowCount === 1) return checked;
    const exists = await pool.query('SELECT 1 FROM users WHERE id = $1', [userId]);
    return { ok: false, refusal: { code: exists.rowCount === 1 ? 'WALLET_TAKEN' : 'USER_NOT_FOUND' } };
  } catch (error) {
    // Two users claiming the same address at once: the unique index decides.
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) return { ok: false, refusal: { code: 'WALLET_TAKEN' } };
    throw error;
  }
}
