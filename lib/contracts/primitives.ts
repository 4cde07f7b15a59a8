// The small shapes every contract is made of. Ids are BIGINT rows as decimal strings; amounts are whole base units
// of the token as decimal strings (never a JavaScript number).
import { z } from 'zod';

export const Id = z.string().regex(/^\d{1,19}$/, 'must be a decimal id');
export const TelegramId = z.string().regex(/^\d{1,19}$/, 'must be a Telegram id (digits)');
export const Units = z.string().regex(/^\d{1,78}$/, 'must be whole base units (digits)');
export const TxHash = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be a 32-byte 0x hash');
export const Address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be a 20-byte 0x address');
export const BlockNumber = z.string().regex(/^\d{1,20}$/, 'must be a block number');

/** The referral levels that earn commissions (three, per seeds/001); MAX_REFERRAL_DEPTH may link fewer. */
export const REFERRAL_LEVELS = [1, 2, 3] as const;
export const ReferralLevel = z.number().int().min(1).max(REFERRAL_LEVELS.length);
