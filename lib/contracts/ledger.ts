// The ledger's contracts: balances, referral earnings, deposit levels and the invariant check.
import { z } from 'zod';
import { defineAction } from './define';
import { Id, ReferralLevel, Units } from './primitives';

const UserIdParams = z.object({ userId: Id });

export const LedgerCheck = z.object({
  ok: z.boolean(),
  problems: z.array(z.string()),
  totals: z.object({
    systemPaid: Units,
    deposits: Units,
    depositsClearing: Units,
    commissions: Units,
    referralExpense: Units,
    userBalances: Units,
  }),
});
export type LedgerCheck = z.infer<typeof LedgerCheck>;

export const LedgerActions = {
  balance: defineAction(
    'ledger.balance',
    UserIdParams,
    z.object({ available: Units, held: Units, decimals: z.number().int().min(0) }),
  ),
  referralEarnings: defineAction(
    'ledger.referralEarnings',
    UserIdParams,
    z.array(z.object({ level: ReferralLevel, amount: Units })),
  ),
  /** The smallest amount of each deposit level (DEPOSIT_LEVEL_1..6), ascending. */
  depositLevels: defineAction(
    'ledger.depositLevels',
    z.object({}),
    z.array(z.object({ level: z.number().int().positive(), minimum: Units })),
  ),
  /** Verifies the ledger's invariants; an operator runs it from the REPL: `call ledger.check`. */
  check: defineAction('ledger.check', z.object({}), LedgerCheck),
};
