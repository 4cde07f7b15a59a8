import type { Upline } from '../../lib/contracts';
import { applyRate } from '../../lib/money';

export interface Commission extends Upline {
  amount: bigint;
}

/**
 * Each upline at level n earns rates[n-1] of the deposit, rounded down to whole base units.
 * Uplines beyond the configured rates, and shares that round down to nothing, earn nothing.
 */
export function splitCommissions(amount: bigint, uplines: readonly Upline[], rates: readonly bigint[]): Commission[] {
  const commissions: Commission[] = [];
  for (const upline of uplines) {
    const rate = rates[upline.level - 1];
    if (rate === undefined || rate === 0n) continue;
    const share = applyRate(amount, rate);
    if (share > 0n) commissions.push({ ...upline, amount: share });
  }
  return commissions;
}
