// Action parameter schemas (fastest-validator, as Moleculer validates them) and their TypeScript shapes.
import { idRule } from '../../lib/validate';

const telegramIdRule = { type: 'string', pattern: /^\d{1,19}$/ } as const;
const optionalText = (max: number) => ({ type: 'string', optional: true, max, nullable: true }) as const;

export const registerParams = {
  telegramId: telegramIdRule,
  username: optionalText(64),
  firstName: optionalText(256),
  languageCode: optionalText(35),
  referralCode: optionalText(64),
} as const;
export interface RegisterParams {
  telegramId: string;
  username?: string | null;
  firstName?: string | null;
  languageCode?: string | null;
  referralCode?: string | null;
}

// Only the shape is checked here; normaliseAddress gives the precise reason (format, checksum, zero).
export const setWalletParams = { userId: idRule, address: { type: 'string', max: 100 } } as const;
export interface SetWalletParams {
  userId: string;
  address: string;
}

export const userIdParams = { userId: idRule } as const;
export interface UserIdParams {
  userId: string;
}

export const telegramIdParams = { telegramId: telegramIdRule } as const;
export interface TelegramIdParams {
  telegramId: string;
}

export const userIdsParams = { userIds: { type: 'array', items: idRule, max: 1000 } } as const;
export interface UserIdsParams {
  userIds: string[];
}

export const addressesParams = {
  addresses: { type: 'array', items: { type: 'string', max: 100 }, max: 1000 },
} as const;
export interface AddressesParams {
  addresses: string[];
}

export const banParams = { userId: idRule, banned: { type: 'boolean' } } as const;
export interface BanParams {
  userId: string;
  banned: boolean;
}

// Deliberately loose: the secret is checked before anything about the update is believed (a forged call gets
// 401 whatever its body), then isTelegramUpdate checks the shape.
export const handleUpdateParams = {
  update: { type: 'any' },
  secretToken: { type: 'any', optional: true },
} as const;
export interface HandleUpdateParams {
  update: unknown;
  secretToken?: unknown;
}

export function isTelegramUpdate(value: unknown): value is { update_id: number } {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const id = (value as Record<string, unknown>)['update_id'];
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0;
}
