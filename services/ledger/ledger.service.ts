import type { Context, ServiceSchema } from 'moleculer';
import { Channels, channelPublisher } from '../../lib/channels';
import { depositLevels, referralRates } from '../../lib/config';
import { parseAmount, toUnits } from '../../lib/money';
import { OutboxRelay } from '../../lib/outbox';
import { channelAdapter, type Runtime } from '../../lib/runtime';
import { compilePayload } from '../../lib/validate';
import { serviceLogger } from '../../lib/logger';
import { ensureSystemAccounts } from './accounts';
import { settleConfirmedDeposit, settleReorgedDeposit, type ChainFactPorts } from './chain-facts';
import { checkLedger } from './checks';
import type { Upline } from './commissions';
import type { CreditRules } from './deposits';
import { referralEarnings, userBalance } from './queries';
import {
  depositConfirmedSchema,
  depositReorgedSchema,
  userParams,
  type DepositConfirmedMessage,
  type DepositReorgedMessage,
  type UserParams,
} from './schemas';

interface LedgerState {
  relay: OutboxRelay;
  ports: ChainFactPorts;
}

export function ledgerService(runtime: Runtime): ServiceSchema {
  const { config, db } = runtime;
  const log = serviceLogger('ledger');
  const parseConfirmed = compilePayload<DepositConfirmedMessage>(depositConfirmedSchema);
  const parseReorged = compilePayload<DepositReorgedMessage>(depositReorgedSchema);
  let state: LedgerState | undefined;
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
      balance: {
        params: userParams,
        async handler(ctx: Context<UserParams>) {
          const balance = await userBalance(db.pool, ctx.params.userId);
          return { available: toUnits(balance.available), held: toUnits(balance.held), decimals: config.USDT_DECIMALS };
        },
      },
      referralEarnings: {
        params: userParams,
        async handler(ctx: Context<UserParams>) {
          const earnings = await referralEarnings(db.pool, ctx.params.userId);
          return earnings.map((e) => ({ level: e.level, amount: toUnits(e.amount) }));
        },
      },
      /** Verifies the ledger's invariants; an operator runs it from the REPL: `call ledger.check`. */
      check: {
        async handler() {
          return checkLedger(db.pool);
        },
      },
    },

    channels: {
      [Channels.depositConfirmed]: {
        group: 'ledger',
        maxInFlight: 50,
        // Each delivery already retries for ~20 s; this many deliveries ride out a long outage before dead-lettering.
        maxRetries: 200,
        async handler(payload: unknown) {
          await settleConfirmedDeposit(parseConfirmed(payload), ready().ports);
        },
      },
      [Channels.depositReorged]: {
        group: 'ledger',
        maxInFlight: 10,
        maxRetries: 200,
        async handler(payload: unknown) {
          await settleReorgedDeposit(parseReorged(payload), ready().ports);
        },
      },
    },

    async started() {
      const system = await ensureSystemAccounts(db.pool);
      const rules: CreditRules = {
        levelThresholds: depositLevels(config).map((level) => parseAmount(level, config.USDT_DECIMALS)),
        referralRates: referralRates(config),
      };
      const relay = new OutboxRelay({
        pool: db.pool,
        table: 'ledger_outbox',
        log,
        publish: channelPublisher(channelAdapter(this.broker)),
      });
      relay.start();
      const ports: ChainFactPorts = {
        pool: db.pool,
        system,
        rules,
        uplines: (userId) =>
          this.broker.call<Upline[], { userId: string }>('users.uplines', { userId }, { timeout: 5000, retries: 2 }),
        onCommitted: () => relay.kick(),
        log,
      };
      state = { relay, ports };
    },

    async stopped() {
      await state?.relay.stop();
    },
  };
}
