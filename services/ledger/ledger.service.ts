// `ledger`: the double-entry book. Credits each confirmed deposit exactly once with its referral commissions,
// tracks later chain facts about credited deposits, answers balances, and checks its own invariants.
import type { ServiceBroker } from 'moleculer';
import {
  callAction,
  ChainChannels,
  consume,
  implement,
  LedgerActions,
  PayoutActions,
  PayoutChannels,
  ChainActions,
  ReconcileAction,
  UsersActions,
  WithdrawalActions,
} from '../../lib/contracts';
import { toUnits } from '../../lib/money';
import { startJobs, type Jobs } from '../../lib/jobs';
import { startOutboxRelay, type OutboxRelay } from '../../lib/outbox';
import { defineService } from '../../lib/runtime';
import { serviceLogger } from '../../lib/logger';
import { ensureSystemAccounts, type SystemAccounts } from './accounts';
import { settleConfirmedDeposit, settleReorgedDeposit, type ChainFactPorts } from './chain-facts';
import { checkLedger } from './checks';
import { ledgerConfig } from './config';
import { LEDGER_OUTBOX } from './deposits';
import { depositors, referralEarnings, userBalance } from './queries';
import { booksForReconciliation, reconcile, type ChainDeposit, type PaidPayout } from './reconcile';
import { accrueRewards } from './rewards';
import { creditRules, rewardRules, withdrawalRules } from './rules';
import {
  checkDailyLimits,
  checkRequest,
  findWithdrawal,
  listWithdrawals,
  type Transition,
  WithdrawalDesk,
  WithdrawalRefusal,
  withdrawalSteps,
} from './withdrawals';

export const REWARD_CALCULATOR = 'reward-calculator';

const PAGE = 5_000;

/** Every row of a keyset-paged action: the next page starts after the last row of the one before. */
async function allPages<T>(page: (last: T | undefined) => Promise<T[]>): Promise<T[]> {
  const rows: T[] = [];
  for (let next = await page(undefined); next.length > 0; next = await page(rows.at(-1))) rows.push(...next);
  return rows;
}

export const ledgerService = defineService('ledger', ledgerConfig, (runtime) => {
  const { config, db } = runtime;
  const log = serviceLogger('ledger');
  const rules = creditRules(config);
  const withdrawals = withdrawalRules(config);
  const rewards = rewardRules(config);
  let jobs: Jobs | undefined;
  const scheduledJobs = (): Jobs => {
    if (!jobs) throw new Error('ledger is not started');
    return jobs;
  };
  let state:
    | { relay: OutboxRelay; ports: ChainFactPorts; system: SystemAccounts; desk: WithdrawalDesk; broker: ServiceBroker }
    | undefined;
  const ready = () => {
    if (!state) throw new Error('ledger is not started');
    return state;
  };

  /** The requesting user; a banned or unknown user may not withdraw. */
  async function requester(userId: string) {
    const user = await callAction(ready().broker, UsersActions.get, { userId }, { timeout: 5000, retries: 2 });
    if (!user) throw new WithdrawalRefusal('USER_NOT_FOUND', 'no such user', {}, 404);
    if (user.isBanned) throw new WithdrawalRefusal('USER_BANNED', 'the user is banned', {}, 403);
    return user;
  }

  async function move(withdrawalId: string, step: Transition) {
    const { withdrawal, changed } = await ready().desk.move(withdrawalId, step);
    if (changed) {
      ready().relay.kick();
      log.info({ user_id: withdrawal.userId, withdrawal_id: withdrawalId }, `withdrawal ${withdrawal.status}`);
    }
    return withdrawal;
  }

  return {
    name: 'ledger',
    settings: { $noVersionPrefix: true },
    // Uplines come from users; a deposit waits in its channel until users answers.
    dependencies: ['users'],

    actions: {
      balance: implement(LedgerActions.balance, async (ctx) => {
        const balance = await userBalance(db.prisma, ctx.params.userId);
        return { available: toUnits(balance.available), held: toUnits(balance.held), decimals: config.USDT_DECIMALS };
      }),
      referralEarnings: implement(LedgerActions.referralEarnings, async (ctx) =>
        (await referralEarnings(db.prisma, ctx.params.userId)).map((e) => ({
          level: e.level,
          amount: toUnits(e.amount),
        })),
      ),
      depositLevels: implement(LedgerActions.depositLevels, () =>
        rules.levelThresholds.map((minimum, index) => ({ level: index + 1, minimum: toUnits(minimum) })),
      ),
      check: implement(LedgerActions.check, () => checkLedger(db.pool)),
      depositors: implement(LedgerActions.depositors, async (ctx) => ({
        userIds: await depositors(db.pool, ctx.params.userIds),
      })),
      accrueRewards: implement(LedgerActions.accrueRewards, async () =>
        LedgerActions.accrueRewards.result.parse(await scheduledJobs().runNow(REWARD_CALCULATOR)),
      ),
      jobs: implement(LedgerActions.jobs, () => scheduledJobs().status()),
      reconcile: implement(ReconcileAction, async () => {
        const broker = ready().broker;
        const slow = { timeout: 120_000 };
        const [terms, payout] = await Promise.all([
          callAction(broker, ChainActions.depositTerms, {}),
          callAction(broker, PayoutActions.status, {}),
        ]);
        const confirmed = await allPages<ChainDeposit>((last) =>
          callAction(
            broker,
            ChainActions.confirmedDeposits,
            { after: last && { blockNumber: last.blockNumber, logIndex: last.logIndex }, limit: PAGE },
            slow,
          ),
        );
        const paid = await allPages<PaidPayout>((last) =>
          callAction(broker, PayoutActions.paid, { afterWithdrawalId: last?.withdrawalId ?? '0', limit: PAGE }, slow),
        );
        const wallets = [terms.systemWallet, ...(payout.wallet ? [payout.wallet] : [])];
        const flows = await callAction(broker, ChainActions.walletFlows, { wallets }, slow);
        const result = reconcile({
          ...(await booksForReconciliation(db.pool)),
          confirmed,
          paid,
          wallets: { system: terms.systemWallet, hot: payout.wallet, ...flows },
        });
        log[result.ok ? 'info' : 'warn']({ differences: result.differences.length }, 'reconciliation done');
        return result;
      }),

      quoteWithdrawal: implement(WithdrawalActions.quote, async (ctx) => {
        const user = await requester(ctx.params.userId);
        const amount = BigInt(ctx.params.amount);
        const { available } = await userBalance(db.prisma, user.id);
        const quote = checkRequest(withdrawals, user, amount, available);
        await checkDailyLimits(db.pool, withdrawals, user.id, amount);
        return {
          amount: toUnits(quote.amount),
          fee: toUnits(quote.fee),
          total: toUnits(quote.total),
          available: toUnits(quote.available),
          destination: quote.destination,
          decimals: config.USDT_DECIMALS,
          needsApproval: quote.needsApproval,
        };
      }),
      requestWithdrawal: implement(WithdrawalActions.request, async (ctx) => {
        const { userId, amount, idempotencyKey } = ctx.params;
        const user = await requester(userId);
        const result = await ready().desk.request(user, BigInt(amount), idempotencyKey);
        if (result.created) {
          ready().relay.kick();
          log.info(
            { request_id: ctx.requestID, user_id: userId, withdrawal_id: result.withdrawal.id, amount },
            `withdrawal requested (${result.withdrawal.status})`,
          );
        }
        return result;
      }),
      approveWithdrawal: implement(WithdrawalActions.approve, (ctx) =>
        move(ctx.params.withdrawalId, withdrawalSteps.approve(ctx.params.admin)),
      ),
      rejectWithdrawal: implement(WithdrawalActions.reject, (ctx) =>
        move(ctx.params.withdrawalId, withdrawalSteps.reject(ctx.params.admin, ctx.params.reason)),
      ),
      cancelWithdrawal: implement(WithdrawalActions.cancel, async (ctx) => {
        const current = await findWithdrawal(db.pool, ctx.params.withdrawalId);
        if (!current || current.userId !== ctx.params.userId)
          throw new WithdrawalRefusal('WITHDRAWAL_NOT_FOUND', 'no such withdrawal', {}, 404);
        return move(ctx.params.withdrawalId, withdrawalSteps.cancel());
      }),
      voidWithdrawal: implement(WithdrawalActions.void, async (ctx) => {
        const { withdrawalId, admin, reason } = ctx.params;
        const current = await findWithdrawal(db.pool, withdrawalId);
        if (!current) throw new WithdrawalRefusal('WITHDRAWAL_NOT_FOUND', 'no such withdrawal', {}, 404);
        // The payout gives it up first (refusing while anything of it could still reach the chain); only then may the
        // funds return.
        if (current.status === 'approved')
          await callAction(ready().broker, PayoutActions.cancel, { withdrawalId, admin }, { timeout: 15_000 });
        return move(withdrawalId, withdrawalSteps.void(admin, reason));
      }),
      withdrawal: implement(
        WithdrawalActions.get,
        async (ctx) => (await findWithdrawal(db.pool, ctx.params.withdrawalId)) ?? null,
      ),
      withdrawals: implement(WithdrawalActions.list, (ctx) => listWithdrawals(db.pool, ctx.params)),
    },

    channels: {
      // Each delivery waits out transient failures for ~20 s; this many deliveries ride out a long outage.
      ...consume(ChainChannels.depositConfirmed, { group: 'ledger', maxInFlight: 50, maxRetries: 200 }, (fact) =>
        settleConfirmedDeposit(fact, ready().ports).then(() => undefined),
      ),
      ...consume(ChainChannels.depositReorged, { group: 'ledger', maxInFlight: 10, maxRetries: 200 }, (fact) =>
        settleReorgedDeposit(fact, ready().ports),
      ),
      ...consume(
        PayoutChannels.payoutCompleted,
        { group: 'ledger', maxInFlight: 20, maxRetries: 200 },
        async (done) => {
          await move(
            done.withdrawalId,
            done.outcome === 'paid' ? withdrawalSteps.paid(done.txHash) : withdrawalSteps.simulated(),
          );
        },
      ),
    },

    async started() {
      const system = await ensureSystemAccounts(db.pool);
      const relay = startOutboxRelay(this.broker, db.pool, LEDGER_OUTBOX, log);
      const ports: ChainFactPorts = {
        pool: db.pool,
        system,
        rules,
        uplines: (userId) => callAction(this.broker, UsersActions.uplines, { userId }, { timeout: 5000, retries: 2 }),
        onCommitted: () => relay.kick(),
        log,
      };
      state = { relay, ports, system, desk: new WithdrawalDesk(db.pool, system, withdrawals), broker: this.broker };
      // Not awaited: a Redis away at start delays the schedule, not the ledger.
      jobs = startJobs({
        redis: config.REDIS_URL,
        namespace: config.NAMESPACE,
        log,
        pool: db.pool,
        jobs: [
          {
            name: REWARD_CALCULATOR,
            // A minute past each hour, when the hour before is complete everywhere.
            pattern: '1 * * * *',
            run: async () => {
              const summary = await accrueRewards(db.pool, system, rewards);
              if (summary.hours > 0) relay.kick();
              return { ...summary };
            },
          },
        ],
      });
    },

    async stopped() {
      await jobs?.stop();
      jobs = undefined;
      await state?.desk.idle();
      await state?.relay.stop();
    },
  };
});
