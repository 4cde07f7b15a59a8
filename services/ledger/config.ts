import {
  boolean,
  defineConfig,
  rate,
  tokenAmount,
  USDT_DECIMALS,
  type CommonConfig,
  type ConfigOf,
} from '../../lib/config';
import { REFERRAL_LEVELS } from '../../lib/contracts';
import { RATE_SCALE } from '../../lib/money';
import { creditRules } from './rules';

const level = (n: number, amount: string) => ({
  description: `Smallest USDT amount of deposit level ${n}`,
  default: amount,
  parse: tokenAmount,
});

export const ledgerConfig = defineConfig(
  {
    DEPOSIT_LEVEL_1: level(1, '10'),
    DEPOSIT_LEVEL_2: level(2, '50'),
    DEPOSIT_LEVEL_3: level(3, '100'),
    DEPOSIT_LEVEL_4: level(4, '250'),
    DEPOSIT_LEVEL_5: level(5, '500'),
    DEPOSIT_LEVEL_6: level(6, '1000'),
    REFERRAL_ENABLED: { description: 'Pay referral commissions on deposits', default: 'true', parse: boolean },
    REFERRAL_RATE_LEVEL_1: {
      description: 'Commission share of a deposit for the direct referrer',
      default: '0.05',
      parse: rate,
    },
    REFERRAL_RATE_LEVEL_2: {
      description: 'Commission share for the second-level referrer',
      default: '0.04',
      parse: rate,
    },
    REFERRAL_RATE_LEVEL_3: {
      description: 'Commission share for the third-level referrer',
      default: '0.03',
      parse: rate,
    },
    USDT_DECIMALS,
  },
  (config) => {
    const problems: string[] = [];
    let levels: readonly bigint[] = [];
    try {
      levels = creditRules(config).levelThresholds;
    } catch (error) {
      problems.push(`DEPOSIT_LEVEL_n ${(error as Error).message} (USDT_DECIMALS is ${config.USDT_DECIMALS})`);
    }
    if (levels[0] === 0n) problems.push('DEPOSIT_LEVEL_1 must be above zero');
    for (let i = 1; i < levels.length; i++) {
      if (levels[i]! <= levels[i - 1]!) problems.push(`DEPOSIT_LEVEL_${i + 1} must be larger than DEPOSIT_LEVEL_${i}`);
    }
    const rates = REFERRAL_LEVELS.map((n) => config[`REFERRAL_RATE_LEVEL_${n}`]);
    if (rates.reduce((sum, r) => sum + r, 0n) >= RATE_SCALE)
      problems.push(`REFERRAL_RATE_LEVEL_1..${REFERRAL_LEVELS.length} must add up to less than 1`);
    return problems;
  },
);
export type LedgerConfig = CommonConfig & ConfigOf<typeof ledgerConfig.variables>;
