// `ledger`: the double-entry book. Credits each confirmed deposit exactly once with its referral commissions,
// tracks later chain facts about credited deposits, answers balances, and checks its own invariants.
import { callAction, ChainChannels, consume, implement, LedgerActions, UsersActions } from '../../lib/contracts';
import { toUnits } from '../../lib/money';
import { startOutboxRelay, type OutboxRelay } from '../../lib/outbox';
import { defineService } from '../../lib/runtime';
import { serviceLogger } from '../../lib/logger';
import { ensureSystemAccounts } from './accounts';
import { settleConfirmedDeposit, settleReorgedDeposit, type ChainFactPorts } from './chain-facts';
import { checkLedger } from './checks';
import { ledgerConfig } from './config';
import { LEDGER_OUTBOX } from './deposits';
import { referralEarnings, userBalance } from './queries';
import { creditRules } from './rules';

export const ledgerService = defineService('ledger', ledgerConfig, (runtime) => {
  const { config, db } = runtime;
  const log = serviceLogger('ledger');
  const rules = creditRules(config);
  let state: { relay: OutboxRelay; ports: ChainFactPorts } | undefined;
  const ready = () => {
    if (!state) throw new Error('ledger is not started');
    return state;
  };

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
    },

    channels: {
      // Each delivery waits out transient failures for ~20 s; this many deliveries ride out a long outage.
      ...consume(ChainChannels.depositConfirmed, { group: 'ledger', maxInFlight: 50, maxRetries: 200 }, (fact) =>
        settleConfirmedDeposit(fact, ready().ports).then(() => undefined),
      ),
      ...consume(ChainChannels.depositReorged, { group: 'ledger', maxInFlight: 10, maxRetries: 200 }, (fact) =>
        settleReorgedDeposit(fact, ready().ports),
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
      state = { relay, ports };
    },

    async stopped() {
      await state?.relay.stop();
    },
  };
});
