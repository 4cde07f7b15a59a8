// Personal invitation codes: short, url-safe (they travel as /start payloads: see ReferralCode in lib/contracts),
// without look-alike characters so a code read aloud or retyped still works.
import { randomInt } from 'node:crypto';

export const REFERRAL_CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
export const REFERRAL_CODE_LENGTH = 8;

/** A fresh random code (57^8 ≈ 1.1e14 possibilities; the unique index catches the rare collision). */
export function generateReferralCode(random: (max: number) => number = randomInt): string {
  let code = '';
  for (let i = 0; i < REFERRAL_CODE_LENGTH; i++) code += REFERRAL_CODE_ALPHABET[random(REFERRAL_CODE_ALPHABET.length)];
  return code;
}
