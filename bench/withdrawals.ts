// Withdrawal holds and posts per second on the real PostgreSQL, through the ledger's own withdrawal code
// (services/ledger/withdrawals.ts): spread over many users (closed loop, then open loop at a fixed rate), and on one
// user's balance row, where requests beyond the balance must be refused and the balance never go below zero.
import { randomBytes } from 'node:crypto';
import type { UserRecord } from '../lib/contracts';
import { parseAmount } from '../lib/money';
import { ensureSystemAccounts, type SystemAccounts } from '../services/ledger/accounts';
import { checkLedger } from '../services/ledger/checks';
import {
  requestWithdrawal,
  transition,
  WithdrawalDesk,
  WithdrawalRefusal,
  withdrawalSteps,
  type Transition,
  type WithdrawalRules,
} from '../services/ledger/withdrawals';
import { createTestDatabase, type TestDatabase } from '../test/support/database';
import { creditTestDeposit } from '../test/support/deposits';
import { userRecord } from '../test/support/user-record';
import { runAtRate, runClosedLoop, summarise } from './stats';

const usdt = (text: string) => parseAmount(text, 18);

/** The defaults of .env.example, with limits no benchmark reaches: every request is decided by its balance. */
const rules: WithdrawalRules = {
  minimum: usdt('10'),
  fee: 0n,
  autoApproveLimit: usdt('1000000'),
  dailyLimitUser: usdt('1000000000'),
  dailyLimitGlobal: usdt('1000000000000'),
  walletCooldownMs: 0,
};

/** A user who may withdraw, each to a wallet of their own. */
const benchUser = (id: number): UserRecord =>
  userRecord(String(id), { walletAddress: `0x${id.toString(16).padStart(40, '0')}` });

interface Bed {
  db: TestDatabase;
  system: SystemAccounts;
  users: UserRecord[];
  funded: bigint;
  /** Holds `amount` for a user under a fresh idempotency key; answers the withdrawal id. */
  hold(user: UserRecord, amount: bigint): Promise<string>;
  /** Posts a held withdrawal as paid on chain (held → payouts clearing). */
  post(withdrawalId: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `batching`: through the service's WithdrawalDesk, which commits concurrent requests together; without it, each
 * request in its own transaction (requestWithdrawal, transition), for comparison.
 */
export type Batching = 'group-commit' | 'one-per-transaction';

async function startBed(prefix: string, userCount: number, funded: bigint, batching: Batching): Promise<Bed> {
  const db = await createTestDatabase(prefix);
  const system = await ensureSystemAccounts(db.pool);
  const users = Array.from({ length: userCount }, (_, i) => benchUser(i + 1));
  await runClosedLoop(users.length, 16, async (i) => {
    await creditTestDeposit(db.pool, users[i]!.id, funded, { fromAddress: users[i]!.walletAddress!, notify: true });
  });
  const desk = new WithdrawalDesk(db.pool, system, rules);
  const hold = (user: UserRecord, amount: bigint, key: string) =>
    batching === 'group-commit'
      ? desk.request(user, amount, key)
      : requestWithdrawal(db.pool, system, rules, user, amount, key);
  const move = (withdrawalId: string, step: Transition) =>
    batching === 'group-commit' ? desk.move(withdrawalId, step) : transition(db.pool, system, withdrawalId, step);
  let txHashes = 0;
  return {
    db,
    system,
    users,
    funded,
    async hold(user, amount) {
      const { withdrawal } = await hold(user, amount, `bench-${randomBytes(8).toString('hex')}`);
      return withdrawal.id;
    },
    async post(withdrawalId) {
      const txHash = `0x${(++txHashes).toString(16).padStart(64, '0')}`;
      // The move the ledger makes when the payout service reports a payout final on chain.
      await move(withdrawalId, withdrawalSteps.paid(txHash));
    },
    async stop() {
      await desk.idle();
      await db.drop();
    },
  };
}

async function checked(bed: Bed) {
  const check = await checkLedger(bed.db.pool);
  if (!check.ok) throw new Error(`ledger invariants broken after the benchmark: ${check.problems.join('; ')}`);
}

const perSecond = (count: number, ms: number) => Math.round((count * 1000) / ms);

/** Closed loop over many users: `holds` holds, then a post of each. */
export async function benchLedgerHolds(options: {
  users: number;
  holds: number;
  concurrency: number;
  batching: Batching;
}) {
  const bed = await startBed('benchholds', options.users, usdt('1000000'), options.batching);
  try {
    const amount = usdt('10');
    const userOf = (i: number) => bed.users[i % bed.users.length]!;
    const warm = await runClosedLoopIds(200, options.concurrency, (i) => bed.hold(userOf(i), amount));
    await runClosedLoop(warm.length, options.concurrency, (i) => bed.post(warm[i]!));

    const ids: string[] = new Array(options.holds);
    let started = performance.now();
    const holdLatency = await runClosedLoop(options.holds, options.concurrency, async (i) => {
      ids[i] = await bed.hold(userOf(i), amount);
    });
    const holdMs = performance.now() - started;
    started = performance.now();
    const postLatency = await runClosedLoop(options.holds, options.concurrency, (i) => bed.post(ids[i]!));
    const postMs = performance.now() - started;
    await checked(bed);
    return {
      users: options.users,
      concurrency: options.concurrency,
      batching: options.batching,
      holds: { count: options.holds, perSecond: perSecond(options.holds, holdMs), latencyMs: summarise(holdLatency) },
      posts: { count: options.holds, perSecond: perSecond(options.holds, postMs), latencyMs: summarise(postLatency) },
      transfersPerSecond: perSecond(2 * options.holds, holdMs + postMs),
      invariants: 'ok',
    };
  } finally {
    await bed.stop();
  }
}

async function runClosedLoopIds(count: number, concurrency: number, job: (i: number) => Promise<string>) {
  const ids: string[] = new Array(count);
  await runClosedLoop(count, concurrency, async (i) => {
    ids[i] = await job(i);
  });
  return ids;
}

/**
 * Open loop at a fixed rate over many users: every other transfer is a hold, the others post the oldest hold not yet
 * posted, so holds and posts run side by side as they do in production. Latency counts from each scheduled start.
 */
export async function benchLedgerLatency(options: {
  users: number;
  rate: number;
  seconds: number;
  batching: Batching;
}) {
  const bed = await startBed('benchlatency', options.users, usdt('1000000'), options.batching);
  try {
    const amount = usdt('10');
    const held: string[] = [];
    let holds = 0;
    let posts = 0;
    const transfer = async (i: number) => {
      const id = i % 2 === 1 ? held.shift() : undefined;
      if (id === undefined) {
        held.push(await bed.hold(bed.users[holds++ % bed.users.length]!, amount));
        return;
      }
      posts++;
      await bed.post(id);
    };
    await runClosedLoop(400, 16, transfer); // warm-up: pool, prepared statements
    holds = 0;
    posts = 0;
    const latency = await runAtRate(options.rate, options.seconds, transfer);
    await checked(bed);
    return {
      users: options.users,
      batching: options.batching,
      ratePerSecond: options.rate,
      seconds: options.seconds,
      holds,
      posts,
      latencyMs: summarise(latency),
      invariants: 'ok',
    };
  } finally {
    await bed.stop();
  }
}

/**
 * One user's balance row: `requests` concurrent holds of which only `fits` can be covered, then a post of each hold.
 * Afterwards: exactly `fits` holds, every other request refused as INSUFFICIENT_FUNDS, and the available balance,
 * replayed from its journal entries in order, never below zero.
 */
export async function benchLedgerHotRow(options: {
  requests: number;
  fits: number;
  concurrency: number;
  batching: Batching;
}) {
  const amount = usdt('10');
  const bed = await startBed('benchhotrow', 1, amount * BigInt(options.fits) + usdt('5'), options.batching);
  try {
    const user = bed.users[0]!;
    const ids: string[] = [];
    const refusals = new Map<string, number>();
    const started = performance.now();
    const holdLatency = await runClosedLoop(options.requests, options.concurrency, async () => {
      try {
        ids.push(await bed.hold(user, amount));
      } catch (error) {
        if (!(error instanceof WithdrawalRefusal)) throw error;
        refusals.set(error.type, (refusals.get(error.type) ?? 0) + 1);
      }
    });
    const holdMs = performance.now() - started;
    const postStarted = performance.now();
    const postLatency = await runClosedLoop(ids.length, options.concurrency, (i) => bed.post(ids[i]!));
    const postMs = performance.now() - postStarted;

    await checked(bed);
    const problems: string[] = [];
    const refused = options.requests - ids.length;
    if (ids.length !== options.fits) problems.push(`${ids.length} holds where ${options.fits} fit`);
    if ((refusals.get('INSUFFICIENT_FUNDS') ?? 0) !== refused)
      problems.push(`refusals other than INSUFFICIENT_FUNDS: ${JSON.stringify(Object.fromEntries(refusals))}`);
    const { rows } = await bed.db.pool.query<{ lowest: string; final: string; balance: string }>(
      `SELECT MIN(running)::text AS lowest, (ARRAY_AGG(running ORDER BY id DESC))[1]::text AS final,
              (SELECT balance::text FROM accounts WHERE user_id = $1 AND kind = 'user_available') AS balance
       FROM (SELECT e.id, SUM(e.amount) OVER (ORDER BY e.id) AS running
             FROM journal_entries e JOIN accounts a ON a.id = e.account_id
             WHERE a.user_id = $1 AND a.kind = 'user_available') replay`,
      [user.id],
    );
    const replay = rows[0]!;
    if (BigInt(replay.lowest) < 0n)
      problems.push(`the balance replayed from its entries went down to ${replay.lowest}`);
    if (replay.final !== replay.balance) problems.push(`replayed ${replay.final}, stored ${replay.balance}`);
    if (BigInt(replay.balance) !== bed.funded - amount * BigInt(options.fits))
      problems.push(`balance ${replay.balance} after ${options.fits} holds of ${amount} from ${bed.funded}`);
    if (problems.length > 0) throw new Error(`hot row: ${problems.join('; ')}`);
    return {
      concurrency: options.concurrency,
      batching: options.batching,
      requests: {
        count: options.requests,
        perSecond: perSecond(options.requests, holdMs),
        latencyMs: summarise(holdLatency),
      },
      holds: { count: ids.length, perSecond: perSecond(ids.length, holdMs) },
      refused: { count: refused, type: 'INSUFFICIENT_FUNDS' },
      posts: { count: ids.length, perSecond: perSecond(ids.length, postMs), latencyMs: summarise(postLatency) },
      lowestBalance: replay.lowest,
      finalBalance: replay.balance,
      invariants: 'ok: never overdrawn, every refusal INSUFFICIENT_FUNDS, ledger.check clean',
    };
  } finally {
    await bed.stop();
  }
}
