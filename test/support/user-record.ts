import type { UserRecord } from '../../lib/contracts';

export const TEST_WALLET = '0x2222222222222222222222222222222222222222';

/** What users.get answers for a user who may withdraw: a registered wallet, no cooldown, a financial password. */
export function userRecord(id: string, overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    id,
    telegramId: String(1000 + Number(id)),
    username: null,
    firstName: null,
    languageCode: 'en',
    walletAddress: TEST_WALLET,
    referralCode: `code${id}`,
    referrerId: null,
    isBanned: false,
    walletChangedAt: null,
    hasWithdrawalPassword: true,
    createdAt: new Date().toISOString(),
    lastSeenAt: null,
    unreachableAt: null,
    unreachableReason: null,
    ...overrides,
  };
}
