// `payout`: sends approved withdrawals from the hot wallet, exactly once (writer.ts says how), or simulates them in
// DRY_RUN. Any number of replicas take approvals from the durable channel; one at a time holds the wallet and
// writes. Failed payouts are retried by the payment-retry job; dead ones wait for an admin.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Errors, type ServiceBroker } from 'moleculer';
import { Chain } from '../../lib/chain/reads';
import { FailoverRpc } from '../../lib/chain/rpc';
import { checkChainAndToken } from '../../lib/chain/token-check';
import {
  callAction,
  consume,
  implement,
  LedgerChannels,
  PayoutActions,
  WithdrawalActions,
  type PayoutRecord,
} from '../../lib/contracts';
import { startJobs, type Jobs } from '../../lib/jobs';
import { failpoint } from '../../lib/failpoints';
import { serviceLogger } from '../../lib/logger';
import { parseAmount } from '../../lib/money';
import { OutageLog } from '../../lib/outage-log';
import { startOutboxRelay, type OutboxRelay } from '../../lib/outbox';
import { defineService } from '../../lib/runtime';
import { hotWalletKey, payoutConfig } from './config';
import { walletFromKey } from './hot-wallet-key';
import { PAYOUT_OUTBOX, PayoutStateError, PayoutStore, type Payout } from './store';
import { PayoutWriter } from './writer';

export const PAYMENT_RETRY = 'payment-retry';

const toRecord = (p: Payout): PayoutRecord => ({
  withdrawalId: p.withdrawalId,
  userId: p.userId,
  destination: p.destination,
  amount: p.amount,
  status: p.status,
  nonce: p.nonce?.toString() ?? null,
  txHash: p.txHash,
  blockNumber: p.blockNumber?.toString() ?? null,
  lastError: p.lastError,
  attempts: p.retries,
});

const refusal = (error: unknown) =>
  error instanceof PayoutStateError
    ? new Errors.MoleculerClientError(
        error.message,
        error.status ? 409 : 404,
        error.status ? 'PAYOUT_STATE' : 'PAYOUT_NOT_FOUND',
        {
          status: error.status,
        },
      )
    : error;

/** Payouts signed under consecutive nonces in one database transaction. */
const SIGN_BATCH = 50;

export const payoutService = defineService('payout', payoutConfig, (runtime) => {
  const { config, db } = runtime;
  const log = serviceLogger('payout');
  const dryRun = config.DRY_RUN;
  const store = new PayoutStore(db.pool, `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`);
  const signer = dryRun ? undefined : walletFromKey(hotWalletKey(config));
  let relay: OutboxRelay | undefined;
  let broker: ServiceBroker | undefined;
  let rpc: FailoverRpc | undefined;
  let writer: PayoutWriter | undefined;
  let jobs: Jobs | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopping = false;
  let lastError: string | undefined;
  const outage = new OutageLog(log, 'payout writer');

  async function runTick() {
    try {
      const summary = await writer!.tick();
      lastError = undefined;
      outage.succeeded();
      if (summary.signed + summary.paid + summary.failed + summary.review + summary.replaced > 0)
        log.debug({ summary }, 'payout tick');
      // A full batch signed: more may be queued, so the next tick does not wait for the poll.
      if (summary.signed >= SIGN_BATCH) again = true;
    } catch (error) {
      lastError = (error as Error).message;
      outage.failed(error);
    }
  }
  const nextDelay = () =>
    Math.min(config.PAYOUT_POLL_INTERVAL_MS * 2 ** Math.min(outage.consecutiveFailures, 6), 10_000);
  /** Runs the writer now (after the tick in progress): an approval should not wait for the poll. */
  function kick() {
    if (!writer || stopping) return;
    if (running) {
      again = true;
      return;
    }
    clearTimeout(timer);
    timer = setTimeout(loop, 0);
  }
  async function loop() {
    running = runTick();
    await running;
    running = undefined;
    if (stopping) return;
    const delay = again ? 0 : nextDelay();
    again = false;
    timer = setTimeout(loop, delay);
  }

  return {
    name: 'payout',
    settings: { $noVersionPrefix: true },

    actions: {
      status: implement(PayoutActions.status, async () => {
        const wallet = signer?.address ?? config.PAYOUT_WALLET_ADDRESS ?? null;
        const state = wallet ? await store.walletState(wallet) : undefined;
        return {
          dryRun,
          wallet,
          nextNonce: state?.nextNonce.toString() ?? null,
          leaseHolder: state?.leaseHolder ?? null,
          self: store.writerId,
          lastError: lastError ?? null,
          counts: await store.counts(),
        };
      }),
      get: implement(PayoutActions.get, async (ctx) => {
        const payout = await store.find(ctx.params.withdrawalId);
        return payout ? toRecord(payout) : null;
      }),
      retry: implement(PayoutActions.retry, async (ctx) => {
        try {
          const payout = await store.retryByAdmin(ctx.params.withdrawalId);
          log.warn({ withdrawal_id: payout.withdrawalId, admin: ctx.params.admin }, 'payout retried by an admin');
          kick();
          return toRecord(payout);
        } catch (error) {
          throw refusal(error);
        }
      }),
      cancel: implement(PayoutActions.cancel, async (ctx) => {
        const withdrawal = await callAction(broker!, WithdrawalActions.get, { withdrawalId: ctx.params.withdrawalId });
        if (!withdrawal) throw new Errors.MoleculerClientError('no such withdrawal', 404, 'PAYOUT_NOT_FOUND');
        try {
          const payout = await store.cancel({
            withdrawalId: withdrawal.id,
            userId: withdrawal.userId,
            destination: withdrawal.destination,
            amount: withdrawal.amount,
          });
          log.warn({ withdrawal_id: payout.withdrawalId, admin: ctx.params.admin }, 'payout cancelled by an admin');
          return toRecord(payout);
        } catch (error) {
          throw refusal(error);
        }
      }),
      jobs: implement(PayoutActions.jobs, async () => (jobs ? jobs.status() : [])),
      paid: implement(PayoutActions.paid, (ctx) => store.paidPage(ctx.params.afterWithdrawalId, ctx.params.limit)),
    },

    channels: {
      ...consume(
        LedgerChannels.withdrawalApproved,
        { group: 'payout', maxInFlight: 50, maxRetries: 200 },
        async (m) => {
          const created = await store.intake(
            { withdrawalId: m.withdrawalId, userId: m.userId, destination: m.destination, amount: m.amount },
            dryRun,
          );
          if (!created) return;
          failpoint('payout:claimed');
          if (dryRun) {
            log.warn(
              { withdrawal_id: m.withdrawalId, user_id: m.userId, destination: m.destination, amount: m.amount },
              'DRY_RUN: payout simulated, nothing signed or sent',
            );
            relay?.kick();
          } else kick();
        },
      ),
    },

    async started() {
      stopping = false;
      broker = this.broker;
      relay = startOutboxRelay(this.broker, db.pool, PAYOUT_OUTBOX, log);
      if (dryRun) {
        log.warn('DRY_RUN is on: payouts are simulated, nothing is signed or sent (DRY_RUN=false sends for real)');
        return;
      }
      rpc = new FailoverRpc({ urls: config.BSC_RPC_URLS, chainId: config.BSC_CHAIN_ID, log, attempts: 3 });
      const chain = new Chain(rpc);
      const decimals = await checkChainAndToken(chain, config);
      writer = new PayoutWriter(
        {
          signer: signer!,
          token: config.USDT_CONTRACT,
          chainId: config.BSC_CHAIN_ID,
          decimals,
          gasLimit: BigInt(config.PAYOUT_GAS_LIMIT),
          minGasPrice: config.PAYOUT_MIN_GAS_PRICE_GWEI,
          maxGasPrice: config.PAYOUT_MAX_GAS_PRICE_GWEI,
          stuckBlocks: config.PAYOUT_STUCK_BLOCKS,
          confirmations: config.BSC_CONFIRMATION_BLOCKS,
          useFinalized: config.BSC_USE_FINALIZED,
          batchSize: SIGN_BATCH,
          leaseMs: config.PAYOUT_LEASE_SECONDS * 1000,
          retry: { maxAttempts: config.PAYOUT_MAX_ATTEMPTS, baseDelayMs: config.PAYOUT_RETRY_BASE_SECONDS * 1000 },
          lowUsdt: parseAmount(config.PAYOUT_LOW_USDT, decimals),
          lowBnb: parseAmount(config.PAYOUT_LOW_BNB, 18),
        },
        { chain, store, log, onCommitted: () => relay?.kick() },
      );
      log.warn({ wallet: writer.address }, 'DRY_RUN=false: payouts are signed and sent from the hot wallet');
      jobs = startJobs({
        redis: config.REDIS_URL,
        namespace: config.NAMESPACE,
        log,
        pool: db.pool,
        jobs: [
          {
            name: PAYMENT_RETRY,
            every: config.PAYMENT_RETRY_INTERVAL_MS,
            run: async () => {
              const released = await store.releaseDueRetries();
              // The writer may run in another replica: it finds them on its next tick.
              if (released > 0) kick();
              return { released };
            },
          },
        ],
      });
      timer = setTimeout(loop, 0);
    },

    async stopped() {
      stopping = true;
      clearTimeout(timer);
      await running;
      await writer?.release().catch(() => undefined);
      await jobs?.stop();
      await relay?.stop();
      rpc?.destroy();
    },
  };
});
