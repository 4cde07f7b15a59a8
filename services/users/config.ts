import { defineConfig, integer, SYSTEM_WALLET_ADDRESS, type CommonConfig, type ConfigOf } from '../../lib/config';
import { REFERRAL_LEVELS } from '../../lib/contracts';

export const usersConfig = defineConfig({
  MAX_REFERRAL_DEPTH: {
    description: `How many uplines a new user is linked to (1-${REFERRAL_LEVELS.length})`,
    default: String(REFERRAL_LEVELS.length),
    parse: integer(1, REFERRAL_LEVELS.length),
  },
  // Refused as anyone's deposit wallet.
  SYSTEM_WALLET_ADDRESS,
});
export type UsersConfig = CommonConfig & ConfigOf<typeof usersConfig.variables>;
