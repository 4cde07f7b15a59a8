// Deposits credited per second with three referral legs, on the real PostgreSQL, through creditDeposit.
import { randomBytes } from 'node:crypto';
import { parseAmount, parseRate } from '../lib/money';
import { ensureSystemAccounts } from '../services/ledger/accounts';
import { checkLedger } from '../services/ledger/checks';
import {
  creditDeposit,
  creditNotifications,
  planCredit,
  type ConfirmedDeposit,
  type CreditRules,
} from '../services/ledger/deposits';
import { createTestDatabase } from '../test/support/database';
import { runAtRate, runClosedLoop, summarise } from './stats';

const rules: CreditRules = {
  levelThresholds: ['10', '50', '100', '250', '500', '1000'].map((x) => parseAmount(x, 18)),
  referralRates: ['0.05', '0.04', '0.03'].map(parseRate),
};

export async function benchLedger(options: {
  deposits: number;
  concurrency: number;
  rate: number;
  rateSeconds: number;
  users: number;
}) {
  const db = await createTestDatabase('bench');
  try {
    const system = await ensureSystemAccounts(db.pool);
    const deposit = (i: number): ConfirmedDeposit => ({
      chainId: 56,
      txHash: `0x${randomBytes(32).toString('hex')}`,
      logIndex: i % 4,
      blockNumber: String(1_000_000 + i),
      blockHash: `0x${randomBytes(32).toString('hex')}`,
      fromAddress: '0x1111111111111111111111111111111111111111',
      userId: String(4 + (i % options.users)),
      amount: parseAmount(String(10 + (i % 990)), 18) + BigInt(i),
    });
    // Every depositor has three uplines drawn from a pool of users, as in a real referral tree.
    const credit = async (i: number) => {
      const d = deposit(i);
      const u = Number(d.userId);
      const uplines = [1, 2, 3].map((level) => ({
        level,
        userId: String(((u + level * 7919) % options.users) + 4 + options.users),
      }));
      const plan = planCredit(d, uplines, rules);
      const result = await creditDeposit(db.pool, system, d, plan, creditNotifications(d, plan, rules));
      if (!result.credited) throw new Error('a fresh deposit was not credited');
    };
    await runClosedLoop(200, options.concurrency, credit); // warm-up: pool, prepared statements, accounts

    const started = performance.now();
    const closed = await runClosedLoop(options.deposits, options.concurrency, (i) => credit(1_000 + i));
    const seconds = (performance.now() - started) / 1000;
    const open = await runAtRate(options.rate, options.rateSeconds, (i) => credit(10_000_000 + i));

    const check = await checkLedger(db.pool);
    if (!check.ok) throw new Error(`ledger invariants broken after the benchmark: ${check.problems.join('; ')}`);
    return {
      maxThroughput: {
        deposits: options.deposits,
        concurrency: options.concurrency,
        creditsPerSecond: Math.round(options.deposits / seconds),
        latencyMs: summarise(closed),
      },
      fixedRate: { ratePerSecond: options.rate, seconds: options.rateSeconds, latencyMs: summarise(open) },
      invariants: 'ok',
    };
  } finally {
    await db.drop();
  }
}
