import {
  boolean,
  defineConfig,
  integer,
  optional,
  rate,
  tokenAmount,
  USDT_DECIMALS,
  type CommonConfig,
  type ConfigOf,
  type Variable,
} from '../../lib/config';
import { REFERRAL_LEVELS } from '../../lib/contracts';
import { RATE_SCALE } from '../../lib/money';
import { creditRules, DEPOSIT_LEVELS, withdrawalRules } from './rules';

const level = (n: number, amount: string) => ({
  description: `Smallest USDT amount of deposit level ${n}`,
  default: amount,
  parse: tokenAmount,
});

const rewardRates = Object.fromEntries(
  DEPOSIT_LEVELS.map((n) => [
    `DEPOSIT_REWARD_RATE_LEVEL_${n}`,
    {
      description: `Daily reward share of a level-${n} deposit (0.01 = 1% a day; 0: none)`,
      default: '0',
      parse: rate,
    },
  ]),
) as { [N in (typeof DEPOSIT_LEVELS)[number] as `DEPOSIT_REWARD_RATE_LEVEL_${N}`]: Variable<bigint> };

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
    WITHDRAWAL_MIN: { description: 'Smallest USDT amount a user may withdraw', default: '10', parse: tokenAmount },
    WITHDRAWAL_FEE: {
      description: 'USDT fee of one withdrawal, taken from the balance on top of the amount',
      default: '0',
      parse: tokenAmount,
    },
    WITHDRAWAL_AUTO_APPROVE_LIMIT: {
      description: 'Withdrawals up to this USDT amount are approved at once; larger ones wait for an admin',
      default: '100',
      parse: tokenAmount,
    },
    WITHDRAWAL_DAILY_LIMIT_USER: {
      description: 'Most USDT one user may withdraw in 24 hours',
      default: '5000',
      parse: tokenAmount,
    },
    WITHDRAWAL_DAILY_LIMIT_GLOBAL: {
      description: 'Most USDT the platform pays out in one UTC day',
      default: '50000',
      parse: tokenAmount,
    },
    WALLET_CHANGE_COOLDOWN_HOURS: {
      description: 'Hours withdrawals wait after a wallet change (account takeover defence)',
      default: '24',
      parse: integer(0, 24 * 30),
    },
    ...rewardRates,
    DEPOSIT_REWARD_CAP_PERCENT: {
      description: 'Most a deposit earns in rewards, in percent of its amount (empty: no cap)',
      default: '',
      parse: optional(integer(1, 10_000)),
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
    try {
      const w = withdrawalRules(config);
      if (w.minimum === 0n) problems.push('WITHDRAWAL_MIN must be above zero');
      if (w.dailyLimitUser < w.minimum) problems.push('WITHDRAWAL_DAILY_LIMIT_USER must be at least WITHDRAWAL_MIN');
      if (w.dailyLimitGlobal < w.dailyLimitUser)
        problems.push('WITHDRAWAL_DAILY_LIMIT_GLOBAL must be at least WITHDRAWAL_DAILY_LIMIT_USER');
    } catch (error) {
      problems.push(`WITHDRAWAL_* ${(error as Error).message} (USDT_DECIMALS is ${config.USDT_DECIMALS})`);
    }
    return problems;
  },
);
export type LedgerConfig = CommonConfig & ConfigOf<typeof ledgerConfig.variables>;
