// `chain-monitor`: reads USDT transfers to the system wallet, survives reorgs and RPC faults, and announces
// deposits (detected to the user, confirmed and reorged out to the ledger) through its outbox.
import { Chain } from '../../lib/chain/reads';
import { FailoverRpc } from '../../lib/chain/rpc';
import { checkChainAndToken } from '../../lib/chain/token-check';
import { callAction, ChainActions, implement, UsersActions } from '../../lib/contracts';
import { serviceLogger } from '../../lib/logger';
import { OutageLog } from '../../lib/outage-log';
import { startOutboxRelay, type OutboxRelay } from '../../lib/outbox';
import { defineService } from '../../lib/runtime';
import { chainMonitorConfig } from './config';
import { confirmedMessages, detectedMessages, reorgedMessages } from './messages';
import { DepositScanner, type TickResult } from './scanner';
import { CHAIN_OUTBOX, TransferStore } from './store';
import { walletFlows } from './wallet-flows';

export const chainMonitorService = defineService('chain-monitor', chainMonitorConfig, (runtime) => {
  const { config, db } = runtime;
  const log = serviceLogger('chain-monitor');
  const chainId = config.BSC_CHAIN_ID;
  const store = new TransferStore(db.pool, chainId);
  let rpc: FailoverRpc | undefined;
  let relay: OutboxRelay | undefined;
  let scanner: DepositScanner | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;
  let last: (TickResult & { at: string }) | undefined;
  let lastError: string | undefined;

  const outage = new OutageLog(log, 'chain scan');
  const runTick = async () => {
    try {
      last = { ...(await scanner!.tick(() => stopping)), at: new Date().toISOString() };
      lastError = undefined;
      outage.succeeded();
    } catch (error) {
      lastError = (error as Error).message;
      outage.failed(error);
    }
  };
  // Polls at BSC_POLL_INTERVAL_MS; while a dependency is down, backs off up to 1 s.
  const nextDelay = () =>
    Math.min(
      config.BSC_POLL_INTERVAL_MS * 2 ** Math.min(outage.consecutiveFailures, 10),
      Math.max(1_000, config.BSC_POLL_INTERVAL_MS),
    );

  return {
    name: 'chain-monitor',
    // Sender matching and recipients come from users; without it there is nothing safe to do.
    dependencies: ['users'],

    actions: {
      status: implement(ChainActions.status, async () => {
        const cursor = await store.cursor();
        return {
          chainId,
          rpcUrlIndex: rpc ? config.BSC_RPC_URLS.indexOf(rpc.url) : null,
          cursor: cursor && { blockNumber: cursor.number.toString(), blockHash: cursor.hash },
          lastTick: last ? { ...last, head: last.head.toString(), scannedTo: last.scannedTo.toString() } : null,
          lastError: lastError ?? null,
        };
      }),
      unmatched: implement(ChainActions.unmatched, async (ctx) => {
        const rows = await store.unmatched(ctx.params.limit, ctx.params.offset);
        return rows.map((t) => ({
          txHash: t.txHash,
          logIndex: t.logIndex,
          blockNumber: t.blockNumber.toString(),
          from: t.from,
          amount: t.amount.toString(),
        }));
      }),
      confirmedDeposits: implement(ChainActions.confirmedDeposits, async (ctx) => {
        const after = ctx.params.after && {
          blockNumber: BigInt(ctx.params.after.blockNumber),
          logIndex: ctx.params.after.logIndex,
        };
        return (await store.confirmedAfter(after, ctx.params.limit)).map((t) => ({
          txHash: t.txHash,
          logIndex: t.logIndex,
          blockNumber: t.blockNumber.toString(),
          from: t.from,
          userId: t.userId,
          amount: t.amount.toString(),
        }));
      }),
      walletFlows: implement(ChainActions.walletFlows, async (ctx) => {
        if (!rpc) throw new Error('chain-monitor is not started');
        const result = await walletFlows(
          new Chain(rpc),
          {
            token: config.USDT_CONTRACT,
            startBlock: config.BSC_START_BLOCK,
            confirmations: config.BSC_CONFIRMATION_BLOCKS,
            useFinalized: config.BSC_USE_FINALIZED,
            maxWindow: config.BSC_SCAN_WINDOW_BLOCKS,
          },
          ctx.params.wallets,
        );
        return {
          fromBlock: result.fromBlock.toString(),
          toBlock: result.toBlock.toString(),
          balances: Object.fromEntries(Object.entries(result.balances).map(([k, v]) => [k, v.toString()])),
          flows: result.flows.map((f) => ({
            txHash: f.txHash,
            logIndex: f.logIndex,
            blockNumber: f.blockNumber.toString(),
            from: f.from,
            to: f.to,
            amount: f.amount.toString(),
          })),
        };
      }),
      depositTerms: implement(ChainActions.depositTerms, () => ({
        chainId,
        token: config.USDT_CONTRACT,
        systemWallet: config.SYSTEM_WALLET_ADDRESS,
        confirmations: config.BSC_CONFIRMATION_BLOCKS,
        useFinalized: config.BSC_USE_FINALIZED,
      })),
    },

    async started() {
      stopping = false;
      rpc = new FailoverRpc({ urls: config.BSC_RPC_URLS, chainId, log });
      const chain = new Chain(rpc);
      await checkChainAndToken(chain, config);
      relay = startOutboxRelay(this.broker, db.pool, CHAIN_OUTBOX, log);
      scanner = new DepositScanner(
        {
          token: config.USDT_CONTRACT,
          systemWallet: config.SYSTEM_WALLET_ADDRESS,
          startBlock: config.BSC_START_BLOCK,
          confirmations: config.BSC_CONFIRMATION_BLOCKS,
          useFinalized: config.BSC_USE_FINALIZED,
          maxWindow: config.BSC_SCAN_WINDOW_BLOCKS,
        },
        {
          chain,
          store,
          log,
          resolveUsers: async (addresses) =>
            new Map(
              Object.entries(
                await callAction(this.broker, UsersActions.byWallets, { addresses }, { timeout: 5000, retries: 2 }),
              ),
            ),
          detectedMessages: (fresh) => detectedMessages(chainId, config.BSC_CONFIRMATION_BLOCKS, fresh),
          confirmedMessages: (matched) => confirmedMessages(chainId, matched),
          reorgedMessages: (matched) => reorgedMessages(chainId, matched),
          onCommitted: () => relay!.kick(),
        },
      );
      const loop = async () => {
        running = runTick();
        await running;
        running = undefined;
        if (!stopping) timer = setTimeout(loop, nextDelay());
      };
      timer = setTimeout(loop, 0);
    },

    async stopped() {
      stopping = true;
      clearTimeout(timer);
      await running;
      await relay?.stop();
      rpc?.destroy();
    },
  };
});
