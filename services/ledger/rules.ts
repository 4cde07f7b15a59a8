// The ledger's rules from its configuration: deposit level thresholds and referral commission rates.
import { REFERRAL_LEVELS } from '../../lib/contracts';
import { parseAmount } from '../../lib/money';
import type { CreditRules } from './deposits';

export const DEPOSIT_LEVELS = [1, 2, 3, 4, 5, 6] as const;

type RuleConfig = { [N in (typeof DEPOSIT_LEVELS)[number] as `DEPOSIT_LEVEL_${N}`]: string } & {
  [N in (typeof REFERRAL_LEVELS)[number] as `REFERRAL_RATE_LEVEL_${N}`]: bigint;
} & { REFERRAL_ENABLED: boolean; USDT_DECIMALS: number };

/** Thresholds in base units (ascending; checked at start-up) and the rate of each referral level, if enabled. */
export function creditRules(config: RuleConfig): CreditRules {
  return {
    levelThresholds: DEPOSIT_LEVELS.map((n) => parseAmount(config[`DEPOSIT_LEVEL_${n}`], config.USDT_DECIMALS)),
    referralRates: config.REFERRAL_ENABLED ? REFERRAL_LEVELS.map((n) => config[`REFERRAL_RATE_LEVEL_${n}`]) : [],
  };
}
