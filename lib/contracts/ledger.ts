// The ledger's contracts: balances, referral earnings, deposit levels and the invariant check.
import { z } from 'zod';
import { defineAction, defineChannel } from './define';
import { jobsAction } from './jobs';
import { Address, Id, ReferralLevel, TelegramId, TxHash, Units } from './primitives';

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
    held: SignedUnits,
    openWithdrawals: SignedUnits,
    payoutsClearing: SignedUnits,
    paidWithdrawals: SignedUnits,
    withdrawalFees: SignedUnits,
    paidFees: SignedUnits,
    rewards: SignedUnits,
    rewardExpense: SignedUnits,
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
  /** Those of the given users who have at least one credited deposit (a broadcast audience). */
  depositors: defineAction(
    'ledger.depositors',
    z.object({ userIds: z.array(Id).max(5000) }),
    z.object({ userIds: z.array(Id) }),
  ),
  /** Verifies the ledger's invariants; an operator runs it from the REPL: `call ledger.check`. */
  check: defineAction('ledger.check', z.object({}), LedgerCheck),
  /** Runs the reward-calculator job now (on whichever replica takes it) and answers what it accrued. */
  accrueRewards: defineAction(
    'ledger.accrueRewards',
    z.object({}),
    z.object({
      hours: z.number().int().min(0),
      accrued: Units,
      firstHour: z.string().nullable(),
      lastHour: z.string().nullable(),
    }),
  ),
  /** The ledger's scheduled jobs (reward-calculator) and their last runs. */
  jobs: jobsAction('ledger'),
};

// ---- Withdrawals ------------------------------------------------------------------------------------------

export const WithdrawalStatus = z.enum([
  'pending_approval',
  'approved',
  'rejected',
  'cancelled',
  'paid',
  'simulated',
  'voided',
]);
export type WithdrawalStatus = z.infer<typeof WithdrawalStatus>;

export const WithdrawalRecord = z.object({
  id: Id,
  userId: Id,
  /** What reaches the wallet; the fee comes on top of it, from the same balance. */
  amount: Units,
  fee: Units,
  destination: Address,
  status: WithdrawalStatus,
  decidedBy: z.string().nullable(),
  rejectReason: z.string().nullable(),
  txHash: TxHash.nullable(),
  createdAt: z.string(),
});
export type WithdrawalRecord = z.infer<typeof WithdrawalRecord>;

const WithdrawalIdParams = z.object({ withdrawalId: Id });
const AdminDecision = z.object({ withdrawalId: Id, admin: TelegramId });
const Reason = z.string().trim().min(1).max(500);

export const WithdrawalQuote = z.object({
  amount: Units,
  fee: Units,
  total: Units,
  available: Units,
  destination: Address,
  decimals: z.number().int().min(0),
  /** Above the auto-approval limit: an admin decides. */
  needsApproval: z.boolean(),
});

export const WithdrawalActions = {
  /** Checks a withdrawal as the user would request it (amount, fee, balance, limits, wallet, cooldown). */
  quote: defineAction('ledger.quoteWithdrawal', z.object({ userId: Id, amount: Units }), WithdrawalQuote),
  /** Holds the funds and records the withdrawal; the same key again returns the first answer. */
  request: defineAction(
    'ledger.requestWithdrawal',
    z.object({ userId: Id, amount: Units, idempotencyKey: z.string().min(1).max(100) }),
    z.object({ withdrawal: WithdrawalRecord, created: z.boolean() }),
  ),
  approve: defineAction('ledger.approveWithdrawal', AdminDecision, WithdrawalRecord),
  reject: defineAction('ledger.rejectWithdrawal', AdminDecision.extend({ reason: Reason }), WithdrawalRecord),
  /** The user takes back a withdrawal that still waits for approval. */
  cancel: defineAction('ledger.cancelWithdrawal', WithdrawalIdParams.extend({ userId: Id }), WithdrawalRecord),
  /** An admin returns the funds of an approved withdrawal whose payout is dead or under review. */
  void: defineAction('ledger.voidWithdrawal', AdminDecision.extend({ reason: Reason }), WithdrawalRecord),
  get: defineAction('ledger.withdrawal', WithdrawalIdParams, WithdrawalRecord.nullable()),
  list: defineAction(
    'ledger.withdrawals',
    z.object({
      userId: Id.optional(),
      status: WithdrawalStatus.optional(),
      limit: z.coerce.number().int().min(1).max(200).default(20),
    }),
    z.array(WithdrawalRecord),
  ),
};

export const LedgerChannels = {
  /** ledger → payout: an approved withdrawal to send on chain. */
  withdrawalApproved: defineChannel(
    'withdrawals.approved',
    z.object({
      id: z.string().min(1).max(200),
      withdrawalId: Id,
      userId: Id,
      destination: Address,
      amount: Units,
    }),
  ),
};

export const Reconciliation = z.object({
  ok: z.boolean(),
  differences: z.array(z.object({ kind: z.string(), detail: z.string(), rows: z.array(z.string()) })),
  totals: z.record(z.string(), z.string()),
});
export type Reconciliation = z.infer<typeof Reconciliation>;

/** Proves the books against chain facts (credited deposits, paid payouts, the platform's wallets). */
export const ReconcileAction = defineAction('ledger.reconcile', z.object({}), Reconciliation);
