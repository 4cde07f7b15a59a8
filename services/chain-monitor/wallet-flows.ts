// Every USDT transfer into or out of the platform's wallets up to the confirmed block, read from the chain on
// demand, for the ledger's reconciliation. Windows shrink when a provider refuses a range, as the scanner's do.
import type { Chain, TransferLog } from '../../lib/chain/reads';
import { RangeTooLargeError } from '../../lib/chain/rpc';

export interface WalletFlows {
  fromBlock: bigint;
  toBlock: bigint;
  balances: Record<string, bigint>;
  flows: TransferLog[];
}

export interface FlowOptions {
  token: string;
  startBlock: bigint;
  confirmations: number;
  useFinalized: boolean;
  maxWindow: number;
}

export async function walletFlows(
  chain: Chain,
  options: FlowOptions,
  wallets: readonly string[],
): Promise<WalletFlows> {
  const head = await chain.headNumber();
  const toBlock = options.useFinalized
    ? ((await chain.block('finalized'))?.number ?? 0n)
    : head - BigInt(options.confirmations) + 1n;
  const seen = new Map<string, TransferLog>();
  let window = BigInt(options.maxWindow);
  for (let from = options.startBlock; from <= toBlock;) {
    const to = from + window - 1n < toBlock ? from + window - 1n : toBlock;
    try {
      for (const wallet of wallets) {
        const logs = [
          ...(await chain.transfersTo(options.token, wallet, from, to)),
          ...(await chain.transfersFrom(options.token, wallet, from, to)),
        ];
        for (const log of logs) seen.set(`${log.txHash}:${log.logIndex}`, log);
      }
      from = to + 1n;
    } catch (error) {
      if (!(error instanceof RangeTooLargeError) || window === 1n) throw error;
      window = window / 2n;
    }
  }
  const balances: Record<string, bigint> = {};
  for (const wallet of wallets)
    balances[wallet] = toBlock >= 0n ? await chain.tokenBalance(options.token, wallet, toBlock) : 0n;
  const flows = [...seen.values()].sort((a, b) =>
    a.blockNumber === b.blockNumber ? a.logIndex - b.logIndex : a.blockNumber < b.blockNumber ? -1 : 1,
  );
  return { fromBlock: options.startBlock, toBlock, balances, flows };
}
