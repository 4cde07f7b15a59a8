import { defineConfig, integer, SYSTEM_WALLET_ADDRESS, type CommonConfig, type ConfigOf } from '../../lib/config';
import { REFERRAL_LEVELS } from '../../lib/contracts';

export const usersConfig = defineConfig({
  MAX_REFERRAL_DEPTH: {
    description: `How many uplines a new user is linked to (1-${REFERRAL_LEVELS.length})`,
    default: String(REFERRAL_LEVELS.length),
    parse: integer(1, REFERRAL_LEVELS.length),
  },
  PASSWORD_MAX_FAILURES: {
    description: 'Wrong financial passwords in a row before withdrawals lock',
    default: '5',
    parse: integer(1, 100),
  },
  PASSWORD_LOCK_MINUTES: {
    description: 'How long withdrawals stay locked after too many wrong passwords',
    default: '30',
    parse: integer(1, 7 * 24 * 60),
  },
  // Refused as anyone's deposit wallet.
  SYSTEM_WALLET_ADDRESS,
});
export type UsersConfig = CommonConfig & ConfigOf<typeof usersConfig.variables>;
