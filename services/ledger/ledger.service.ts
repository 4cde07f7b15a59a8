import type { Context, Service, ServiceSchema } from 'moleculer';
import { Channels, channelPublisher } from '../../lib/channels';
import { depositLevels, referralRates } from '../../lib/config';
import { parseAmount, toUnits } from '../../lib/money';
import { OutboxRelay } from '../../lib/outbox';
import { channelAdapter, type Runtime } from '../../lib/runtime';
import { retryTransient } from '../../lib/retry';
import { compilePayload } from '../../lib/validate';
import { serviceLogger } from '../../lib/logger';
import { ensureSystemAccounts, type SystemAccounts } from './accounts';
import type { Upline } from './commissions';
import { checkLedger } from './checks';
import { applyChainFact, creditDeposit, creditNotifications, planCredit, type CreditRules } from './deposits';
import { isCredited, referralEarnings, userBalance } from './queries';
import {
  depositConfirmedSchema,
  depositReorgedSchema,
  userParams,
  type DepositConfirmedMessage,
  type DepositReorgedMessage,
  type UserParams,
} from './schemas';

interface LedgerState {
  system: SystemAccounts;
  rules: CreditRules;
  relay: OutboxRelay;
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
        async handler(this: Service, payload: unknown) {
          const message = parseConfirmed(payload);
          const { system, rules, relay } = ready();
          const result = await retryTransient(
            async () => {
              // A redelivery of a credited deposit is normal: answer it without asking anyone anything. A newer
              // revision of it means it is on the chain again after a deep reorg (or in another block).
              if (await isCredited(db.pool, message.chainId, message.txHash, message.logIndex)) {
                const outcome = await applyChainFact(db.pool, message, false);
                if (outcome === 'restored') {
                  relay.kick();
                  log.warn(
                    { user_id: message.userId, tx_hash: message.txHash },
                    'reorged-out deposit is on the chain again',
                  );
                }
                return null;
              }
              const uplines = rules.referralRates.length
                ? await this.broker.call<Upline[], { userId: string }>(
                    'users.uplines',
                    { userId: message.userId },
                    { timeout: 5000 },
                  )
                : [];
              const deposit = { ...message, amount: BigInt(message.amount) };
              const plan = planCredit(deposit, uplines, rules);
              return creditDeposit(db.pool, system, deposit, plan, creditNotifications(deposit, plan, rules));
            },
            {
              onRetry: (error) =>
                log.warn({ err: error, tx_hash: message.txHash }, 'crediting a deposit failed; retrying'),
            },
          );
          if (!result) return;
          if (result.credited) {
            relay.kick();
            log.info(
              {
                user_id: message.userId,
                deposit_id: result.depositId,
                deposit_level: result.plan.level,
                commissions: result.plan.commissions.length,
              },
              'deposit credited',
            );
          }
        },
      },
      [Channels.depositReorged]: {
        group: 'ledger',
        maxInFlight: 10,
        maxRetries: 200,
        async handler(payload: unknown) {
          const message = parseReorged(payload);
          const { relay } = ready();
          const outcome = await retryTransient(async () => {
            const applied = await applyChainFact(db.pool, message, true);
            // Announced before this, the credit itself may still be on its way: wait for it.
            if (applied === 'not-credited')
              throw new Error(`deposit ${message.txHash}:${message.logIndex} is not credited yet`);
            return applied;
          });
          if (outcome === 'reorged-out') {
            relay.kick();
            log.error(
              { user_id: message.userId, tx_hash: message.txHash, log_index: message.logIndex, amount: message.amount },
              'a credited deposit left the chain (a reorg deeper than the confirmations); admins alerted, nothing reversed',
            );
          }
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
      state = { system, rules, relay };
    },

    async stopped() {
      await state?.relay.stop();
    },
  };
}
