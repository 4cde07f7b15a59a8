// The ledger's rules from its configuration: deposit level thresholds and referral commission rates.
import { REFERRAL_LEVELS } from '../../lib/contracts';
import { parseAmount } from '../../lib/money';
import type { CreditRules } from './deposits';
import type { WithdrawalRules } from './withdrawals';

export const DEPOSIT_LEVELS = [1, 2, 3, 4, 5, 6] as const;

type RuleConfig = { [N in (typeof DEPOSIT_LEVELS)[number] as `DEPOSIT_LEVEL_${N}`]: string } & {
  [N in (typeof REFERRAL_LEVELS)[number] as `REFERRAL_RATE_LEVEL_${N}`]: bigint;
} & { REFERRAL_ENABLED: boolean; USDT_DECIMALS: number };

type WithdrawalConfig = {
  WITHDRAWAL_MIN: string;
  WITHDRAWAL_FEE: string;
  WITHDRAWAL_AUTO_APPROVE_LIMIT: string;
  WITHDRAWAL_DAILY_LIMIT_USER: string;
  WITHDRAWAL_DAILY_LIMIT_GLOBAL: string;
  WALLET_CHANGE_COOLDOWN_HOURS: number;
  USDT_DECIMALS: number;
};

export function withdrawalRules(config: WithdrawalConfig): WithdrawalRules {
  const units = (value: string) => parseAmount(value, config.USDT_DECIMALS);
  return {
    minimum: units(config.WITHDRAWAL_MIN),
    fee: units(config.WITHDRAWAL_FEE),
    autoApproveLimit: units(config.WITHDRAWAL_AUTO_APPROVE_LIMIT),
    dailyLimitUser: units(config.WITHDRAWAL_DAILY_LIMIT_USER),
    dailyLimitGlobal: units(config.WITHDRAWAL_DAILY_LIMIT_GLOBAL),
    walletCooldownMs: config.WALLET_CHANGE_COOLDOWN_HOURS * 3_600_000,
  };
}

type RewardConfig = { [N in (typeof DEPOSIT_LEVELS)[number] as `DEPOSIT_REWARD_RATE_LEVEL_${N}`]: bigint } & {
  DEPOSIT_REWARD_CAP_PERCENT: number | undefined;
};

export interface RewardRules {
  /** Daily rate (RATE_SCALE fixed point) by deposit level, index 0 = level 1. */
  dailyRates: readonly bigint[];
  /** Most a deposit earns, in percent of its amount. */
  capPercent: number | undefined;
}

export const rewardRules = (config: RewardConfig): RewardRules => ({
  dailyRates: DEPOSIT_LEVELS.map((n) => config[`DEPOSIT_REWARD_RATE_LEVEL_${n}`]),
  capPercent: config.DEPOSIT_REWARD_CAP_PERCENT,
});

/** Thresholds in base units (ascending; checked at start-up) and the rate of each referral level, if enabled. */
export function creditRules(config: RuleConfig): CreditRules {
  return {
    levelThresholds: DEPOSIT_LEVELS.map((n) => parseAmount(config[`DEPOSIT_LEVEL_${n}`], config.USDT_DECIMALS)),
    referralRates: config.REFERRAL_ENABLED ? REFERRAL_LEVELS.map((n) => config[`REFERRAL_RATE_LEVEL_${n}`]) : [],
  };
}
