// chain-monitor's contracts: the facts it announces about deposits, and what operators and the bot may ask it.
import { z } from 'zod';
import { defineAction, defineChannel } from './define';
import { Address, BlockNumber, Id, TxHash, Units } from './primitives';

/** A matched transfer to the system wallet as chain-monitor knows it; `revision` orders the facts about it. */
export const DepositFact = z.object({
  id: z.string().min(1).max(300),
  chainId: z.number().int().positive(),
  txHash: TxHash,
  logIndex: z.number().int().min(0),
  blockNumber: BlockNumber,
  blockHash: TxHash,
  fromAddress: Address,
  userId: Id,
  amount: Units,
  /** Grows with each change of the transfer's state; a fact older than the one applied last is old news. */
  revision: z.number().int().positive().default(1),
});
export type DepositFact = z.output<typeof DepositFact>;

export const ChainChannels = {
  /** chain-monitor → ledger: a matched transfer reached its confirmations (or is on the chain again). */
  depositConfirmed: defineChannel('deposits.confirmed', DepositFact),
  /** chain-monitor → ledger: a confirmed transfer's block left the canonical chain (a reorg deeper than the confirmations). */
  depositReorged: defineChannel('deposits.reorged', DepositFact),
};

const Tick = z.object({
  head: BlockNumber,
  scannedTo: BlockNumber,
  seen: z.number().int(),
  confirmed: z.number().int(),
  reorg: z.boolean(),
  at: z.string(),
});

export const ChainActions = {
  /** Where scanning stands; for operators (`call chain-monitor.status`). */
  status: defineAction(
    'chain-monitor.status',
    z.object({}),
    z.object({
      chainId: z.number().int(),
      rpcUrlIndex: z.number().int().nullable(),
      cursor: z.object({ blockNumber: BlockNumber, blockHash: TxHash }).nullable(),
      lastTick: Tick.nullable(),
      lastError: z.string().nullable(),
    }),
  ),
  /** Confirmed transfers to the system wallet from wallets nobody registered, newest first. */
  unmatched: defineAction(
    'chain-monitor.unmatched',
    z.object({
      // From the REPL they may come as text, or as null for "the default".
      limit: z.preprocess((v) => v ?? undefined, z.coerce.number().int().min(1).max(500).default(50)),
      offset: z.preprocess((v) => v ?? undefined, z.coerce.number().int().min(0).default(0)),
    }),
    z.array(
      z.object({ txHash: TxHash, logIndex: z.number().int(), blockNumber: BlockNumber, from: Address, amount: Units }),
    ),
  ),
  /** Confirmed transfers to the system wallet (matched to a user or not), in chain order after `after`. */
  confirmedDeposits: defineAction(
    'chain-monitor.confirmedDeposits',
    z.object({
      after: z.object({ blockNumber: BlockNumber, logIndex: z.number().int() }).optional(),
      limit: z.number().int().min(1).max(10_000).default(5_000),
    }),
    z.array(
      z.object({
        txHash: TxHash,
        logIndex: z.number().int(),
        blockNumber: BlockNumber,
        from: Address,
        userId: Id.nullable(),
        amount: Units,
      }),
    ),
  ),
  /**
   * Every USDT transfer into or out of the given wallets from BSC_START_BLOCK to the confirmed block (read from the
   * chain now, window by window), with the wallets' token balances at that block. For reconciliation; as costly as
   * the range is long.
   */
  walletFlows: defineAction(
    'chain-monitor.walletFlows',
    z.object({ wallets: z.array(Address).min(1).max(10) }),
    z.object({
      fromBlock: BlockNumber,
      toBlock: BlockNumber,
      balances: z.record(z.string(), Units),
      flows: z.array(
        z.object({
          txHash: TxHash,
          logIndex: z.number().int(),
          blockNumber: BlockNumber,
          from: Address,
          to: Address,
          amount: Units,
        }),
      ),
    }),
  ),
  /** What a depositor must know: where to send, which token, after how much depth it counts. */
  depositTerms: defineAction(
    'chain-monitor.depositTerms',
    z.object({}),
    z.object({
      chainId: z.number().int(),
      token: Address,
      systemWallet: Address,
      confirmations: z.number().int().positive(),
      useFinalized: z.boolean(),
    }),
  ),
};
