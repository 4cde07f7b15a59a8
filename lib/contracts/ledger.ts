// The ledger's contracts: balances, referral earnings, deposit levels and the invariant check.
import { z } from 'zod';
import { defineAction } from './define';
import { Id, ReferralLevel, Units } from './primitives';

/** A sum that a drifted book can make negative (ledger.check reports exactly that). */
const SignedUnits = z.string().regex(/^-?\d{1,78}$/, 'must be whole base units (digits, maybe negative)');

const UserIdParams = z.object({ userId: Id });

export const LedgerCheck = z.object({
  ok: z.boolean(),
  problems: z.array(z.string()),
  totals: z.object({
    systemPaid: SignedUnits,
    deposits: SignedUnits,
    depositsClearing: SignedUnits,
    commissions: SignedUnits,
    referralExpense: SignedUnits,
    userBalances: SignedUnits,
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
