// The payout service's contracts: what it tells the ledger, and what operators and the ledger may ask it.
import { z } from 'zod';
import { defineAction, defineChannel } from './define';
import { jobsAction } from './jobs';
import { Address, BlockNumber, Id, TelegramId, TxHash, Units } from './primitives';

export const PayoutChannels = {
  /**
   * payout → ledger: a withdrawal's payout is final. `paid`: a successful receipt at the configured depth (the ledger
   * posts the hold); `simulated`: DRY_RUN, nothing was signed (the ledger voids the hold).
   */
  payoutCompleted: defineChannel(
    'payouts.completed',
    z.discriminatedUnion('outcome', [
      z.object({
        id: z.string().min(1).max(200),
        withdrawalId: Id,
        outcome: z.literal('paid'),
        txHash: TxHash,
        blockNumber: BlockNumber,
      }),
      z.object({ id: z.string().min(1).max(200), withdrawalId: Id, outcome: z.literal('simulated') }),
    ]),
  ),
};

const PayoutStatus = z.enum([
  'queued',
  'signed',
  'sent',
  'paid',
  'simulated',
  'retrying',
  'dead',
  'review',
  'cancelled',
]);

export const PayoutRecord = z.object({
  withdrawalId: Id,
  userId: Id,
  destination: Address,
  amount: Units,
  status: PayoutStatus,
  nonce: z.string().nullable(),
  txHash: TxHash.nullable(),
  blockNumber: BlockNumber.nullable(),
  lastError: z.string().nullable(),
  attempts: z.number().int().min(0),
});
export type PayoutRecord = z.infer<typeof PayoutRecord>;

export const PayoutActions = {
  status: defineAction(
    'payout.status',
    z.object({}),
    z.object({
      dryRun: z.boolean(),
      wallet: Address.nullable(),
      nextNonce: z.string().nullable(),
      leaseHolder: z.string().nullable(),
      /** This replica's writer id: it writes when it equals leaseHolder. */
      self: z.string(),
      /** Why this replica's last writer tick failed (the RPC or the database away), or null. */
      lastError: z.string().nullable(),
      counts: z.record(z.string(), z.number().int()),
    }),
  ),
  get: defineAction('payout.get', z.object({ withdrawalId: Id }), PayoutRecord.nullable()),
  /** An admin sends a dead (or reviewed) payout again, after topping up the hot wallet or checking the chain. */
  retry: defineAction('payout.retry', z.object({ withdrawalId: Id, admin: TelegramId }), PayoutRecord),
  /**
   * Gives up a dead (or reviewed) payout so the ledger may return its funds: refused while anything of it could still
   * reach the chain. Once cancelled, a payout is never retried.
   */
  cancel: defineAction('payout.cancel', z.object({ withdrawalId: Id, admin: TelegramId }), PayoutRecord),
  /** The payout's scheduled jobs (payment-retry) and their last runs. */
  jobs: jobsAction('payout'),
  /** Paid payouts, by withdrawal id, for the ledger's reconciliation. */
  paid: defineAction(
    'payout.paid',
    z.object({ afterWithdrawalId: Id.default('0'), limit: z.number().int().min(1).max(10_000).default(5_000) }),
    z.array(
      z.object({ withdrawalId: Id, amount: Units, destination: Address, txHash: TxHash, blockNumber: BlockNumber }),
    ),
  ),
};
