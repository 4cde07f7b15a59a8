// A seeded model-based test of the ledger (issue 7): random sequences of deposits with 3-level commissions,
// redelivered and reordered chain facts, reorgs, withdrawal requests (valid, too large, repeated keys), admin
// decisions, payout completions and their redeliveries, hourly reward runs on a simulated clock, and crashes (a
// connection terminated or an exception mid-transaction, or a commit whose answer is lost) followed by the retry,
// against the ledger's own functions on a real PostgreSQL schema. Withdrawals go through the WithdrawalDesk and the
// withdrawalSteps the ledger service uses, and batches of requests or moves submitted at once share a transaction.
// A plain in-memory model (test/support/ledger-model.ts) predicts every answer; after every step each user's
// balance, every withdrawal's and deposit's state, the messages in the outbox, the global daily totals, and
// ledger.check's totals and problems must equal the model's.
//
// Each CI run makes RUNS × OPS_PER_RUN = 40 × 250 = 10,000 operations (a crash and its retry count as one).
// The seed is random unless LEDGER_MODEL_SEED is set, and is printed; a failure prints the seed and the path of the
// shrunk counterexample. Replay it with:
//   LEDGER_MODEL_SEED=<seed> LEDGER_MODEL_PATH=<path> npx mocha --node-option import=tsx --timeout 600000 --exit \
//     test/integration/ledger-model.spec.ts
// (the seed alone replays the whole run and shrinks again). LEDGER_MODEL_SHRINK_SECONDS bounds shrinking (60).
import { expect } from 'chai';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { DepositFact, Upline, UserRecord, WithdrawalRecord } from '../../lib/contracts';
import { createPool } from '../../lib/db';
import { rootLogger } from '../../lib/logger';
import { parseAmount, parseRate } from '../../lib/money';
import { ensureSystemAccounts, type SystemAccounts } from '../../services/ledger/accounts';
import { settleConfirmedDeposit, settleReorgedDeposit, type ChainFactPorts } from '../../services/ledger/chain-facts';
import { checkLedger } from '../../services/ledger/checks';
import { userBalance } from '../../services/ledger/queries';
import { accrueRewards } from '../../services/ledger/rewards';
import {
  checkDailyLimits,
  checkRequest,
  WithdrawalDesk,
  WithdrawalRefusal,
  withdrawalSteps,
  type WithdrawalRules,
} from '../../services/ledger/withdrawals';
import { crashingPool, type CrashPlan, type Crashed } from '../support/crashing-pool';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { TEST_WALLET, userRecord } from '../support/user-record';
import {
  HOUR,
  LedgerModel,
  type ChainFact,
  type ModelDeposit,
  type ModelRules,
  type ModelWithdrawal,
  type Predicted,
  type StepName,
} from '../support/ledger-model';

const RUNS = Number(process.env.LEDGER_MODEL_RUNS ?? 40);
const OPS_PER_RUN = 250;
const SHRINK_MS = Number(process.env.LEDGER_MODEL_SHRINK_SECONDS ?? 60) * 1000;

const usdt = (text: string) => parseAmount(text, 18);
const hash = (text: string) => `0x${createHash('sha256').update(text).digest('hex')}`;
const silent = rootLogger().child({ service: 'ledger-model' }, { level: 'silent' });

// ---- The users and their referral chain: 5 → 4 → 3 → 2 → 1, 7 → 1, 6 alone -------------------------------------

const USERS = ['1', '2', '3', '4', '5', '6', '7'];
const REFERRER: Record<string, string> = { '2': '1', '3': '2', '4': '3', '5': '4', '7': '1' };
function uplinesOf(userId: string): Upline[] {
  const uplines: Upline[] = [];
  for (let id = REFERRER[userId], level = 1; id && level <= 3; id = REFERRER[id], level++)
    uplines.push({ level: level as Upline['level'], userId: id });
  return uplines;
}

// ---- What a run is: the ledger's configuration, then the operations -----------------------------------------

const rulesArb: fc.Arbitrary<ModelRules> = fc
  .record({
    referralRates: fc.constantFrom(['0.05', '0.03', '0.01'], ['0.1', '0.05', '0.025'], []),
    fee: fc.constantFrom('0', '1', '0.25'),
    minimum: fc.constantFrom('10', '1'),
    autoApprove: fc.constantFrom('100', '500'),
    dailyLimits: fc.constantFrom(['1000', '1500'], ['1500', '1000000'], ['100000', '1000000']),
    dailyRates: fc.array(fc.constantFrom('0', '0.024', '0.24', '0.5'), { minLength: 6, maxLength: 6 }),
    capPercent: fc.constantFrom(undefined, 2, 10),
  })
  .map((c) => ({
    credit: {
      levelThresholds: ['10', '100', '500', '1000', '2500', '5000'].map(usdt),
      referralRates: c.referralRates.map(parseRate),
    },
    withdrawal: {
      minimum: usdt(c.minimum),
      fee: usdt(c.fee),
      autoApproveLimit: usdt(c.autoApprove),
      dailyLimitUser: usdt(c.dailyLimits[0]!),
      dailyLimitGlobal: usdt(c.dailyLimits[1]!),
      walletCooldownMs: 24 * HOUR,
    } satisfies WithdrawalRules,
    reward: { dailyRates: c.dailyRates.map(parseRate), capPercent: c.capPercent },
  }));

/** `arbitrary`'s value one time in `n`, undefined otherwise. */
const sometimes = <T>(n: number, arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
/** ~1 operation in 10 crashes once and is retried. */
const crashArb = sometimes(
  10,
  fc.record({
    when: fc.constantFrom('before' as const, 'after' as const),
    how: fc.constantFrom('terminate' as const, 'throw' as const),
    transaction: fc.integer({ min: 1, max: 3 }),
    statement: fc.integer({ min: 1, max: 5 }),
  }),
);
/** Picks one of the things that exist when the operation runs (modulo their number). */
const pick = fc.nat({ max: 1_000_000 });
const often = (n: number) => fc.constantFrom(...Array.from({ length: n }, (_, i) => i > 0));
const seldom = (n: number) => fc.constantFrom(...Array.from({ length: n }, (_, i) => i === 0));
/** One of the keys, as often as its weight says. */
const weighted = <K extends string>(weights: Record<K, number>) =>
  fc.oneof(...Object.entries<number>(weights).map(([k, weight]) => ({ weight, arbitrary: fc.constant(k as K) })));
const user = fc.constantFrom(...USERS);
const STEPS = ['approve', 'reject', 'cancel', 'void', 'paid', 'simulated'] as const satisfies readonly StepName[];

/** A withdrawal request as the bot's dialog makes it: who, how much of the balance, which key, which wallet state. */
const requestFields = {
  user,
  amount: weighted({ valid: 4, large: 2, all: 1, tooMuch: 1, belowMin: 1, stale: 1 }),
  fraction: pick,
  key: weighted({ fresh: 6, same: 2, other: 1, foreign: 1 }),
  keyPick: pick,
  wallet: weighted({ ok: 8, none: 1, cooldown: 1, oldChange: 1 }),
};
/** A move of a picked withdrawal (mostly an open one). */
const moveFields = { withdrawal: pick, openOnly: often(4), step: fc.constantFrom(...STEPS) };

const opArb = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.record({
      kind: fc.constant('deposit' as const),
      user,
      amount: fc.oneof(
        fc.bigInt({ min: 1n, max: usdt('10') }),
        fc.bigInt({ min: usdt('10'), max: usdt('1000') }),
        fc.bigInt({ min: usdt('1000'), max: usdt('6000') }),
        fc.constantFrom('10', '100', '500', '1000', '2500', '5000').map(usdt),
      ),
      /** Hours that pass first without a reward run (the job is down; the next run catches up). */
      hoursLater: fc.oneof(
        { weight: 6, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) },
      ),
      minute: fc.integer({ min: 0, max: 59 }),
      /** Another transfer of an earlier deposit's transaction (its next log index). */
      sameTxAs: sometimes(10, pick),
      deliver: often(10),
      twice: seldom(10),
      crash: crashArb,
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('chain' as const),
      deposit: pick,
      deliver: often(5),
      crash: crashArb,
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('redeliver' as const),
      deposit: pick,
      fact: pick,
      upper: seldom(5),
      twice: seldom(6),
      crash: crashArb,
    }),
  },
  {
    weight: 25,
    arbitrary: fc.record({
      kind: fc.constant('request' as const),
      ...requestFields,
      doubleTap: seldom(10),
      crash: crashArb,
    }),
  },
  {
    weight: 25,
    arbitrary: fc.record({ kind: fc.constant('move' as const), ...moveFields, crash: crashArb }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('requests' as const),
      /** Submitted at once: the first goes alone, the others gather into one batch behind it. */
      requests: fc.array(
        fc.record({
          ...requestFields,
          /** The key of an earlier request of the batch again (its user's), with its amount or another. */
          again: sometimes(4, fc.record({ request: pick, otherAmount: seldom(3) })),
        }),
        { minLength: 2, maxLength: 8 },
      ),
      crash: crashArb,
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('moves' as const),
      /** Submitted at once, as the request batch; a withdrawal moved twice waits for the next batch. */
      moves: fc.array(fc.record(moveFields), { minLength: 2, maxLength: 8 }),
      crash: crashArb,
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('race' as const),
      withdrawal: pick,
      steps: fc.tuple(fc.constantFrom(...STEPS), fc.constantFrom(...STEPS)),
      crash: fc.constant(undefined),
    }),
  },
  {
    weight: 7,
    arbitrary: fc.record({
      kind: fc.constant('accrue' as const),
      replicas: seldom(6).map((two) => (two ? 2 : 1)),
      hours: fc.oneof(
        { weight: 7, arbitrary: fc.constant(1) },
        { weight: 2, arbitrary: fc.integer({ min: 2, max: 3 }) },
        { weight: 1, arbitrary: fc.integer({ min: 20, max: 26 }) },
      ),
      crash: crashArb,
    }),
  },
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

/** Always `true` (run the operation); shrinks to `false`, so shrinking drops operations from a fixed-length run. */
class Kept extends fc.Arbitrary<boolean> {
  generate(): fc.Value<boolean> {
    return new fc.Value(true, undefined);
  }
  canShrinkWithoutContext(value: unknown): value is boolean {
    return typeof value === 'boolean';
  }
  shrink(value: boolean): fc.Stream<fc.Value<boolean>> {
    return value ? fc.Stream.of(new fc.Value(false, undefined)) : fc.Stream.nil();
  }
}

const describeOp = (op: unknown) =>
  JSON.stringify(op, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)).replace(/"(\w+)":/g, '$1:');

const opsArb = fc.array(fc.record({ kept: new Kept(), op: opArb }), { minLength: OPS_PER_RUN, maxLength: OPS_PER_RUN });

// ---- Running operations against the ledger and the model ------------------------------------------------------

/** The simulated clock starts on a fixed evening, so day boundaries (reward summaries) come up. */
const T0 = Date.UTC(2026, 10, 2, 20);

interface Run {
  db: TestDatabase;
  /** The ledger service's desk on the healthy pool (one per process, as the service has). */
  desk: WithdrawalDesk;
  /** A second pool whose connections the crashes terminate; its lost connections are expected, not logged. */
  crashable: pg.Pool;
  system: SystemAccounts;
  rules: ModelRules;
  model: LedgerModel;
  /** The start of the simulated hour now. */
  clock: number;
  step: number;
  keys: number;
  /** Deposits whose credit time was set to the simulated clock. */
  stamped: Set<ModelDeposit>;
}

type Outcome<T> = { value: T } | { error: unknown };
const settle = <T>(promise: Promise<T>): Promise<Outcome<T>> =>
  promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
const refusalOf = (outcome: Outcome<unknown>) =>
  'error' in outcome ? (outcome.error instanceof WithdrawalRefusal ? outcome.error.type : String(outcome.error)) : '';

function fail(run: Run, message: string): never {
  throw new Error(`step ${run.step}: ${message}`);
}

const factMessage = (d: ModelDeposit, f: ChainFact, upper: boolean): DepositFact => ({
  id: `deposit-confirmed:56:${d.txHash}:${d.logIndex}:r${f.revision}`,
  chainId: 56,
  txHash: upper ? `0x${d.txHash.slice(2).toUpperCase()}` : d.txHash,
  logIndex: d.logIndex,
  blockNumber: f.blockNumber,
  blockHash: f.blockHash,
  fromAddress: '0x1111111111111111111111111111111111111111',
  userId: d.userId,
  amount: d.amount.toString(),
  revision: f.revision,
});

function ports(run: Run, pool: pg.Pool): ChainFactPorts {
  return {
    pool,
    system: run.system,
    rules: run.rules.credit,
    uplines: async (userId) => uplinesOf(userId),
    onCommitted: () => undefined,
    log: silent,
  };
}

/**
 * Runs one attempt of an operation; with a crash plan, first on the crashing pool. A crash must surface as an
 * error (never as an answer or a refusal), leaves the model as it was before the commit (or applies what committed),
 * and is followed by the retry on a healthy pool: a caller's retry, or the channel's redelivery.
 */
async function withCrash(
  run: Run,
  plan: CrashPlan | undefined,
  attempt: (pool: pg.Pool, crashed: Crashed | undefined) => Promise<void>,
) {
  if (!plan) return attempt(run.db.pool, undefined);
  const { pool, crashed } = crashingPool(run.crashable, run.db.pool, plan);
  await attempt(pool, crashed);
  if (crashed.transaction === undefined) return;
  await verify(run, `after a crash (${plan.when} commit, ${plan.how})`);
  await attempt(run.db.pool, undefined);
}

/** Checks an attempt's outcome against the prediction, or that a crash failed it; applies what committed. */
function conclude<T>(
  run: Run,
  outcome: Outcome<unknown>,
  crashed: Crashed | undefined,
  plan: CrashPlan | undefined,
  prediction: Predicted<T>,
  compare: (outcome: Outcome<unknown>, expected: T) => void,
  label: (expected: T) => string,
) {
  if (crashed?.transaction !== undefined) {
    if (!('error' in outcome)) fail(run, 'a crashed transaction answered as if nothing happened');
    if (outcome.error instanceof WithdrawalRefusal)
      fail(run, `a crash was answered as a refusal: ${outcome.error.type}`);
    saw(`crash ${plan?.when} commit (${plan?.how})`);
    if (plan?.when === 'after') prediction.apply();
    return;
  }
  compare(outcome, prediction.answer);
  saw(label(prediction.answer));
  prediction.apply();
}

/** What the runs exercised, printed at the end (so a generator that stopped reaching something shows). */
const seen = new Map<string, number>();
const saw = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

function pickOf<T>(items: readonly T[], n: number): T | undefined {
  return items.length ? items[n % items.length] : undefined;
}

// -- deposits and chain facts

/** Delivers one chain fact as the ledger's channel handlers take it: maybe two copies at once, maybe crashing. */
async function deliver(
  run: Run,
  d: ModelDeposit,
  f: ChainFact,
  {
    upper = false,
    twice = false,
    plan,
    minute = (run.step * 7) % 60,
  }: { upper?: boolean; twice?: boolean; plan?: CrashPlan; minute?: number },
) {
  const message = factMessage(d, f, upper);
  const channel = f.reorgedOut ? 'deposits.reorged' : 'deposits.confirmed';
  const settleFact = (p: ChainFactPorts): Promise<unknown> =>
    f.reorgedOut ? settleReorgedDeposit(message, p) : settleConfirmedDeposit(message, p);
  // A reorg announced before the credit is refused (the channel redelivers it later).
  const shown = (o: Outcome<unknown>) =>
    'value' in o
      ? String(o.value ?? 'done')
      : String(o.error).includes('not credited yet')
        ? 'not-credited'
        : `error: ${String(o.error)}`;
  await withCrash(run, plan, async (pool, crashed) => {
    const predicted: Predicted<string> = f.reorgedOut
      ? run.model.reorged(d, f)
      : run.model.confirmed(d, f, run.clock + minute * 60_000);
    const outcomes = await Promise.all(
      Array.from({ length: twice ? 2 : 1 }, () => settle(settleFact(ports(run, pool)))),
    );
    conclude(
      run,
      outcomes[0]!,
      crashed,
      plan,
      predicted,
      (_, answer) => {
        // Two copies at once: one of them does it, the other finds it done.
        const expected = (twice ? [answer, f.reorgedOut ? answer : 'known'] : [answer]).sort();
        const got = outcomes.map(shown).sort();
        if (JSON.stringify(got) !== JSON.stringify(expected))
          fail(run, `${channel} r${f.revision}: expected ${expected.join(', ')}, got ${got.join(', ')}`);
      },
      (answer) => `${channel}: ${answer}${twice ? ' (two at once)' : ''}`,
    );
  });
}

/** A transfer chain-monitor has just confirmed (revision 1); the ledger hears of it when a fact is delivered. */
function newDeposit(run: Run, userId: string, amount: bigint, sibling?: ModelDeposit): ModelDeposit {
  const n = run.model.deposits.length;
  const d: ModelDeposit = {
    txHash: sibling?.txHash ?? hash(`tx:${n}`),
    logIndex: sibling
      ? Math.max(...run.model.deposits.filter((x) => x.txHash === sibling.txHash).map((x) => x.logIndex)) + 1
      : 0,
    userId,
    amount,
    facts: [{ revision: 1, reorgedOut: false, blockNumber: String(1000 + n), blockHash: hash(`block:${n}:1`) }],
    credited: false,
    revision: 0,
    reorged: false,
    level: 0,
    creditedAt: 0,
    accrued: 0n,
  };
  run.model.deposits.push(d);
  return d;
}

async function depositOp(run: Run, op: Extract<Op, { kind: 'deposit' }>) {
  run.clock += op.hoursLater * HOUR;
  const sibling = op.sameTxAs === undefined ? undefined : pickOf(run.model.deposits, op.sameTxAs);
  const d = newDeposit(run, op.user, op.amount, sibling);
  // Credited at the op's minute of the simulated hour.
  if (op.deliver)
    await deliver(run, d, d.facts[0]!, { twice: op.twice, plan: op.twice ? undefined : op.crash, minute: op.minute });
}

/**
 * chain-monitor's next word on a deposit: its block left the chain, or it is back (in another block). Before any
 * deposit exists, a new one whose reorg is announced before its credit.
 */
async function chainOp(run: Run, op: Extract<Op, { kind: 'chain' }>) {
  const d = pickOf(run.model.deposits, op.deposit) ?? newDeposit(run, '6', usdt('20'));
  const last = d.facts[d.facts.length - 1]!;
  const revision = last.revision + 1;
  const fact: ChainFact = last.reorgedOut
    ? {
        revision,
        reorgedOut: false,
        blockNumber: String(Number(last.blockNumber) + 3),
        blockHash: hash(`block:${d.txHash}:${revision}`),
      }
    : { ...last, revision, reorgedOut: true };
  d.facts.push(fact);
  if (op.deliver) await deliver(run, d, fact, { plan: op.crash });
}

async function redeliverOp(run: Run, op: Extract<Op, { kind: 'redeliver' }>) {
  const d = pickOf(run.model.deposits, op.deposit);
  if (!d) return chainOp(run, { kind: 'chain', deposit: 0, deliver: true, crash: op.crash });
  const fact = pickOf(d.facts, op.fact)!;
  await deliver(run, d, fact, { upper: op.upper, twice: op.twice, plan: op.twice ? undefined : op.crash });
}

// -- withdrawals

/** The user as users.get answers: the op's wallet state, the referrer of the chain. */
function userOf(id: string, wallet: Extract<Op, { kind: 'request' }>['wallet']): UserRecord {
  const changedHoursAgo = wallet === 'cooldown' ? 1 : wallet === 'oldChange' ? 25 : undefined;
  return userRecord(id, {
    walletAddress: wallet === 'none' ? null : TEST_WALLET,
    referrerId: REFERRER[id] ?? null,
    walletChangedAt: changedHoursAgo ? new Date(Date.now() - changedHoursAgo * HOUR).toISOString() : null,
  });
}

/** The amount asked for and the balance the caller believes available, from the op's kind and the model. */
type RequestFields = Omit<Extract<Op, { kind: 'request' }>, 'kind' | 'doubleTap' | 'crash'>;

function requestAmount(run: Run, op: RequestFields): { amount: bigint; believed: bigint } {
  const { minimum, fee, autoApproveLimit } = run.rules.withdrawal;
  const available = run.model.balances.get(op.user)!.available;
  const room = available - fee;
  const f = BigInt(op.fraction);
  const share = (span: bigint) => (span * f) / 1_000_000n;
  switch (op.amount) {
    case 'valid':
      return { amount: room >= minimum ? minimum + share(room - minimum) : minimum, believed: available };
    case 'large':
      return { amount: autoApproveLimit + 1n + share(usdt('400')), believed: available };
    case 'all':
      return { amount: room >= minimum ? room : minimum, believed: available };
    case 'tooMuch':
      return { amount: (room > 0n ? room : 0n) + 1n + share(usdt('50')), believed: available };
    case 'belowMin':
      return { amount: 1n + share(minimum - 2n), believed: available };
    case 'stale': {
      // Read before another request took part of the balance: the hold itself must refuse the overdraft.
      const amount = (room > minimum ? room : minimum) + 1n + share(usdt('50'));
      return { amount, believed: amount + fee };
    }
  }
}

function requestKey(run: Run, op: RequestFields, amount: bigint): { key: string; amount: bigint } {
  const mine = run.model.withdrawals.filter((w) => w.userId === op.user);
  const theirs = run.model.withdrawals.filter((w) => w.userId !== op.user && !run.model.keyOf(op.user, w.key));
  const same = op.key === 'same' ? pickOf(mine, op.keyPick) : undefined;
  if (same) return { key: same.key, amount: same.amount };
  const other = op.key === 'other' ? pickOf(mine, op.keyPick) : undefined;
  if (other) return { key: other.key, amount: amount === other.amount ? amount + 1n : amount };
  const foreign = op.key === 'foreign' ? pickOf(theirs, op.keyPick) : undefined;
  if (foreign) return { key: foreign.key, amount };
  return { key: `dialog-${run.keys++}`, amount };
}

/** The answer's withdrawal against the model's (whose id is unknown only until an answer tells it). */
function sameWithdrawal(run: Run, real: WithdrawalRecord, expected: ModelWithdrawal, what: string) {
  const { id, userId, amount, fee, destination, status, decidedBy, rejectReason, txHash } = real;
  const got = { id, userId, amount, fee, destination, status, decidedBy, rejectReason, txHash };
  const want = {
    ...expected,
    id: expected.id ?? real.id,
    amount: expected.amount.toString(),
    fee: expected.fee.toString(),
    destination: TEST_WALLET,
  };
  const differs = (Object.keys(got) as (keyof typeof got)[]).filter((k) => got[k] !== want[k]);
  if (differs.length)
    fail(run, `${what}: ${differs.map((k) => `${k} ${String(got[k])}, the model says ${String(want[k])}`).join('; ')}`);
}

/** The service's desk on the healthy pool, or one of its own on a crashing pool. */
const deskOn = (run: Run, pool: pg.Pool) =>
  pool === run.db.pool ? run.desk : new WithdrawalDesk(pool, run.system, run.rules.withdrawal);

type RequestAnswer = ReturnType<LedgerModel['request']>['answer'];

/** The answers to one request (two, for a double tap: one creates it, the other answers it) against the model's. */
function compareRequest(run: Run, outcomes: Outcome<unknown>[], answer: RequestAnswer, what: string) {
  if ('refused' in answer) {
    for (const o of outcomes)
      if (refusalOf(o) !== answer.refused)
        fail(run, `${what}: expected ${answer.refused}, got ${'value' in o ? 'a withdrawal' : refusalOf(o)}`);
    return;
  }
  const results = outcomes.map((o) => {
    if (!('value' in o)) fail(run, `${what}: expected a withdrawal, got ${refusalOf(o)}`);
    return o.value as { withdrawal: WithdrawalRecord; created: boolean };
  });
  const created = results.map((r) => r.created).sort();
  const want = outcomes.length === 2 ? [false, answer.created].sort() : [answer.created];
  if (JSON.stringify(created) !== JSON.stringify(want))
    fail(run, `${what}: expected created ${want.join(', ')}, got ${created.join(', ')}`);
  for (const r of results) sameWithdrawal(run, r.withdrawal, answer.withdrawal, what);
  answer.withdrawal.id ??= results[0]!.withdrawal.id;
  answer.withdrawal.day = results[0]!.withdrawal.createdAt.slice(0, 10);
}

async function requestOp(run: Run, op: Extract<Op, { kind: 'request' }>) {
  const asked = requestAmount(run, op);
  const { key, amount } = requestKey(run, op, asked.amount);
  const record = userOf(op.user, op.wallet);
  const wallet = op.wallet === 'oldChange' ? 'ok' : op.wallet;
  const doubleTap = op.doubleTap && op.key === 'fresh';
  await withCrash(run, doubleTap ? undefined : op.crash, async (pool, crashed) => {
    const desk = deskOn(run, pool);
    // A retry reads the balance again, as the service does.
    const believed = op.amount === 'stale' ? asked.believed : run.model.balances.get(op.user)!.available;
    const today = new Date().toISOString().slice(0, 10);
    const asking = { userId: op.user, amount, key, available: believed, wallet, today } as const;
    if (!crashed) {
      // The dialog's confirmation step first.
      const quoted = await settle(
        (async () => {
          const quote = checkRequest(run.rules.withdrawal, record, amount, believed);
          await checkDailyLimits(run.db.pool, run.rules.withdrawal, op.user, amount);
          return quote;
        })(),
      );
      const want = run.model.quote(asking);
      if (refusalOf(quoted) !== (want ?? ''))
        fail(run, `quote of ${amount}: expected ${want ?? 'a quote'}, got ${refusalOf(quoted) || 'a quote'}`);
    }
    const predicted = run.model.request(asking);
    // A double tap: two presses of Confirm at once, on the one desk.
    const outcomes = await Promise.all(
      Array.from({ length: doubleTap ? 2 : 1 }, () => settle(desk.request(record, amount, key))),
    );
    conclude(
      run,
      outcomes[0]!,
      crashed,
      op.crash,
      predicted,
      (_, answer) => compareRequest(run, outcomes, answer, `request ${key} of ${amount}`),
      (answer) =>
        'refused' in answer
          ? `request: ${answer.refused}${op.amount === 'stale' ? ' (balance read before)' : ''}`
          : `request: ${answer.created ? answer.withdrawal.status : 'same key again'}${doubleTap ? ' (double tap)' : ''}`,
    );
    // A commit whose answer was lost leaves the id to the retry (which answers the same withdrawal).
  });
}

const moveDetails = (id: string) => ({ admin: '42', reason: 'by the model', txHash: hash(`paid:${id}`) });
type MoveDetails = ReturnType<typeof moveDetails>;

/** The service's own step for each move: admins' decisions, the user's cancel, the payout's completions. */
function stepOf(step: StepName, details: MoveDetails) {
  if (step === 'approve') return withdrawalSteps.approve(details.admin);
  if (step === 'reject') return withdrawalSteps.reject(details.admin, details.reason);
  if (step === 'cancel') return withdrawalSteps.cancel();
  if (step === 'void') return withdrawalSteps.void(details.admin, details.reason);
  if (step === 'paid') return withdrawalSteps.paid(details.txHash);
  return withdrawalSteps.simulated();
}

type MoveAnswer = ReturnType<LedgerModel['move']>['answer'];

function compareMove(run: Run, o: Outcome<unknown>, answer: MoveAnswer, what: string) {
  if ('refused' in answer) {
    if (refusalOf(o) !== answer.refused)
      fail(run, `${what}: expected ${answer.refused}, got ${'value' in o ? 'a move' : refusalOf(o)}`);
    return;
  }
  if (!('value' in o)) return fail(run, `${what}: expected a move, got ${refusalOf(o)}`);
  const real = o.value as { withdrawal: WithdrawalRecord; changed: boolean };
  if (real.changed !== answer.changed) fail(run, `${what}: expected changed ${answer.changed}, got ${real.changed}`);
  sameWithdrawal(run, real.withdrawal, answer.withdrawal, what);
}

const moveLabel = (step: StepName, answer: MoveAnswer) =>
  `${step}: ${'refused' in answer ? answer.refused : answer.changed ? 'done' : 'again'}`;

async function moveOp(run: Run, op: Extract<Op, { kind: 'move' }>) {
  const open = run.model.withdrawals.filter((w) => w.status === 'pending_approval' || w.status === 'approved');
  const w = pickOf(op.openOnly && open.length ? open : run.model.withdrawals, op.withdrawal);
  const id = w?.id ?? '999999999';
  const details = moveDetails(id);
  await withCrash(run, op.crash, async (pool, crashed) => {
    const predicted = run.model.move(w, op.step, details);
    const outcome = await settle(deskOn(run, pool).move(id, stepOf(op.step, details)));
    conclude(
      run,
      outcome,
      crashed,
      op.crash,
      predicted,
      (o, answer) => compareMove(run, o, answer, `${op.step} ${id}`),
      (answer) => moveLabel(op.step, answer),
    );
  });
}

/**
 * Two moves of one open withdrawal at once (an admin's void and the payout's completion, a reject and the user's
 * cancel): whichever commits first wins, and the other answers as it would after it; the hold resolves once.
 */
async function raceOp(run: Run, op: Extract<Op, { kind: 'race' }>) {
  const open = run.model.withdrawals.filter((w) => w.status === 'pending_approval' || w.status === 'approved');
  const w = pickOf(open, op.withdrawal);
  if (!w?.id)
    return moveOp(run, {
      kind: 'move',
      withdrawal: op.withdrawal,
      openOnly: false,
      step: op.steps[0],
      crash: undefined,
    });
  const id = w.id;
  const details = moveDetails(id);
  const outcomes = await Promise.all(op.steps.map((step) => settle(run.desk.move(id, stepOf(step, details)))));
  const fits = (first: 0 | 1) => {
    const second = first === 0 ? 1 : 0;
    const before = run.model.move(w, op.steps[first], details).answer;
    const after = run.model.move('refused' in before ? w : before.withdrawal, op.steps[second], details).answer;
    try {
      compareMove(run, outcomes[first]!, before, op.steps[first]);
      compareMove(run, outcomes[second]!, after, op.steps[second]);
      return true;
    } catch {
      return false;
    }
  };
  const first = fits(0) ? 0 : fits(1) ? 1 : undefined;
  if (first === undefined)
    fail(
      run,
      `${op.steps.join(' and ')} of ${id} at once: no order explains ${JSON.stringify(outcomes.map((o) => ('value' in o ? o.value : refusalOf(o))))}`,
    );
  const order = first === 0 ? op.steps : [op.steps[1], op.steps[0]];
  for (const step of order) run.model.move(w, step, details).apply();
  saw(`race: ${order[0]} first, ${order[1]} second`);
}

// -- batches: what the desk commits together when requests or moves arrive at once

/** A desk with one batch in flight, so which requests share a batch is fixed: the first alone, the others together. */
const batchingDesk = (run: Run, pool: pg.Pool) =>
  new WithdrawalDesk(pool, run.system, run.rules.withdrawal, { inFlight: 1 });

/**
 * Requests of several users (or one user's several presses) at once. Each is answered as if they came one after
 * another in the order submitted: a key repeated in the batch answers its first withdrawal, and each request sees the
 * balance and the daily limits the ones before it left. Only the first (alone in its transaction) can crash.
 */
async function requestsOp(run: Run, op: Extract<Op, { kind: 'requests' }>) {
  type Asked = { record: UserRecord; userId: string; amount: bigint; key: string; wallet: 'ok' | 'none' | 'cooldown' };
  const asked: Asked[] = [];
  for (const [i, r] of op.requests.entries()) {
    const wallet = r.wallet === 'oldChange' ? 'ok' : r.wallet;
    const earlier = r.again && i > 0 ? asked[r.again.request % i]! : undefined;
    if (earlier) {
      const amount = r.again?.otherAmount ? earlier.amount + 1n : earlier.amount;
      asked.push({ ...earlier, record: userOf(earlier.userId, r.wallet), wallet, amount });
      continue;
    }
    const { key, amount } = requestKey(run, r, requestAmount(run, r).amount);
    asked.push({ record: userOf(r.user, r.wallet), userId: r.user, amount, key, wallet });
  }
  await withCrash(run, op.crash, async (pool, crashed) => {
    const desk = batchingDesk(run, pool);
    const outcomes = await Promise.all(asked.map((a) => settle(desk.request(a.record, a.amount, a.key))));
    const today = new Date().toISOString().slice(0, 10);
    asked.forEach((a, i) => {
      const what = `request ${i + 1} of ${asked.length} at once (${a.key} of ${a.amount})`;
      conclude(
        run,
        outcomes[i]!,
        i === 0 ? crashed : undefined,
        op.crash,
        run.model.request({ userId: a.userId, amount: a.amount, key: a.key, wallet: a.wallet, today }),
        (o, answer) => compareRequest(run, [o], answer, what),
        (answer) =>
          `requests at once: ${'refused' in answer ? answer.refused : answer.created ? answer.withdrawal.status : 'same key again'}`,
      );
    });
  });
}

/**
 * Moves of several withdrawals at once (admins' decisions, payout completions, cancels). A withdrawal moves at most
 * once per batch, so its moves keep the order submitted, and moves of different withdrawals commute: each answer is
 * the model's in that order. Only the first (alone in its transaction) can crash.
 */
async function movesOp(run: Run, op: Extract<Op, { kind: 'moves' }>) {
  const open = run.model.withdrawals.filter((w) => w.status === 'pending_approval' || w.status === 'approved');
  const picked = op.moves.map((m) => {
    const w = pickOf(m.openOnly && open.length ? open : run.model.withdrawals, m.withdrawal);
    return { w, step: m.step, id: w?.id ?? '999999999' };
  });
  await withCrash(run, op.crash, async (pool, crashed) => {
    const desk = batchingDesk(run, pool);
    const outcomes = await Promise.all(
      picked.map(({ id, step }) => settle(desk.move(id, stepOf(step, moveDetails(id))))),
    );
    picked.forEach(({ w, step, id }, i) => {
      conclude(
        run,
        outcomes[i]!,
        i === 0 ? crashed : undefined,
        op.crash,
        run.model.move(w, step, moveDetails(id)),
        (o, answer) => compareMove(run, o, answer, `${step} ${id} (${i + 1} of ${picked.length} at once)`),
        (answer) => `moves at once: ${moveLabel(step, answer)}`,
      );
    });
  });
}

// -- rewards

async function accrueOp(run: Run, op: Extract<Op, { kind: 'accrue' }>) {
  run.clock += op.hours * HOUR;
  const now = run.clock + 60_000;
  const replicas = op.crash ? 1 : op.replicas;
  await withCrash(run, op.crash, async (pool, crashed) => {
    const hours = run.model.accrual(now);
    const outcomes = await Promise.all(
      Array.from({ length: replicas }, () => settle(accrueRewards(pool, run.system, run.rules.reward, new Date(now)))),
    );
    if (crashed?.transaction !== undefined) {
      if (!('error' in outcomes[0]!)) fail(run, 'a crashed reward run answered as if nothing happened');
      // The hours before the crashed one committed; the crashed one too if only its answer was lost.
      const committed = crashed.transaction - (op.crash?.when === 'after' ? 0 : 1);
      hours.slice(0, committed).forEach((h) => h.apply());
      saw(`crash ${op.crash?.when} commit (${op.crash?.how})`);
      return;
    }
    // Replicas running at once share the hours: each hour is accrued by one of them.
    const got = { hours: 0, accrued: 0n, periods: [] as string[] };
    for (const o of outcomes) {
      if (!('value' in o)) return fail(run, `reward run: ${String(o.error)}`);
      got.hours += o.value.hours;
      got.accrued += BigInt(o.value.accrued);
      got.periods.push(...[o.value.firstHour, o.value.lastHour].filter((h): h is string => h !== null));
    }
    const iso = (t: number) => new Date(t).toISOString();
    const want = { hours: hours.length, accrued: hours.reduce((s, h) => s + h.total, 0n) };
    const span = hours.length ? [iso(hours[0]!.period), iso(hours[hours.length - 1]!.period)] : [];
    const sorted = [...got.periods].sort();
    if (
      got.hours !== want.hours ||
      got.accrued !== want.accrued ||
      (span.length ? sorted[0] !== span[0] || sorted[sorted.length - 1] !== span[1] : sorted.length > 0)
    )
      fail(
        run,
        `reward run at ${iso(now)} (${replicas} at once): expected ${want.hours} hours ${span.join('..')} paying ${want.accrued}, ` +
          `got ${JSON.stringify(outcomes)}`,
      );
    hours.forEach((h) => h.apply());
    const what = hours.length ? (want.accrued === 0n ? 'nothing earned' : 'rewards') : 'no hour';
    saw(`reward run: ${what}${replicas > 1 ? ' (two replicas)' : ''}`);
  });
}

// ---- After every step: the database says what the model says ----------------------------------------------

/** Credits happen at the simulated clock: each new credit gets its time before anything reads it. */
async function stampCredits(run: Run) {
  for (const d of run.model.deposits) {
    if (!d.credited || run.stamped.has(d)) continue;
    const { rowCount } = await run.db.pool.query(
      'UPDATE deposits SET created_at = $3 WHERE chain_id = 56 AND tx_hash = $1 AND log_index = $2',
      [d.txHash, d.logIndex, new Date(d.creditedAt)],
    );
    if (rowCount !== 1) fail(run, `deposit ${d.txHash}:${d.logIndex} is credited in the model only`);
    run.stamped.add(d);
  }
}

async function verify(run: Run, when: string) {
  await stampCredits(run);
  const { model, db } = run;
  const [balances, check, rows] = await Promise.all([
    Promise.all(model.userIds.map((id) => userBalance(db.prisma, id))),
    checkLedger(db.pool),
    db.pool.query(
      `SELECT id::text, user_id::text AS "userId", idempotency_key AS key, status, amount::text FROM withdrawals ORDER BY id;
       SELECT tx_hash AS "txHash", log_index AS "logIndex", chain_revision AS revision, reorged_at IS NOT NULL AS reorged,
              rewards_accrued::text AS accrued, level FROM deposits ORDER BY tx_hash COLLATE "C", log_index;
       SELECT COALESCE(payload->>'template', channel) AS what, count(*)::int AS n FROM ledger_outbox GROUP BY 1;
       SELECT day::text, total::text FROM withdrawal_days WHERE total <> 0 ORDER BY day`,
    ) as unknown as Promise<pg.QueryResult[]>,
  ]);
  const at = (what: string) => `${what} ${when}`;
  model.userIds.forEach((id, i) => {
    const want = model.balances.get(id)!;
    const got = balances[i]!;
    if (got.available !== want.available || got.held !== want.held)
      fail(
        run,
        at(
          `user ${id} has ${got.available} available and ${got.held} held; the model says ${want.available} and ${want.held}`,
        ),
      );
  });
  const expected = model.expectedCheck();
  if (JSON.stringify(check.totals) !== JSON.stringify(expected.totals))
    fail(
      run,
      at(`ledger.check totals ${JSON.stringify(check.totals)}; the model says ${JSON.stringify(expected.totals)}`),
    );
  const reorged = expected.reorgedTxHashes;
  const unexpected = check.problems.filter(
    (p) => !(p.includes('left the chain') && reorged.some((tx) => p.includes(tx))),
  );
  if (unexpected.length || check.problems.length !== Math.min(reorged.length, 20))
    fail(
      run,
      at(
        `ledger.check problems ${JSON.stringify(check.problems)}; the model expects only the ${reorged.length} reorged-out deposits`,
      ),
    );

  // Withdrawals by user and key (a commit whose answer was lost has no id in the model until its retry answers).
  const real = new Map(
    rows[0]!.rows.map((r: { id: string; userId: string; key: string }) => [`${r.userId}:${r.key}`, r]),
  );
  const describe = (w: ModelWithdrawal) => ({
    id: w.id,
    userId: w.userId,
    key: w.key,
    status: w.status,
    amount: w.amount.toString(),
  });
  const differs =
    real.size !== model.withdrawals.length ||
    model.withdrawals.some((w) => {
      const r = real.get(`${w.userId}:${w.key}`);
      return !r || JSON.stringify(r) !== JSON.stringify({ ...describe(w), id: w.id ?? r.id });
    });
  if (differs)
    fail(
      run,
      at(
        `withdrawals ${JSON.stringify([...real.values()])}; the model says ${JSON.stringify(model.withdrawals.map(describe))}`,
      ),
    );
  const deposits = rows[1]!.rows.map((r) => JSON.stringify(r)).join('\n');
  const credited = model.deposits
    .filter((d) => d.credited)
    .sort((a, b) => (a.txHash === b.txHash ? a.logIndex - b.logIndex : a.txHash < b.txHash ? -1 : 1))
    .map((d) =>
      JSON.stringify({
        txHash: d.txHash,
        logIndex: d.logIndex,
        revision: d.revision,
        reorged: d.reorged,
        accrued: d.accrued.toString(),
        level: d.level,
      }),
    )
    .join('\n');
  if (deposits !== credited) fail(run, at(`deposits\n${deposits}\nthe model says\n${credited}`));
  const byName = (entries: [string, number][]) =>
    JSON.stringify(Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1))));
  const announced = byName(rows[2]!.rows.map((r: { what: string; n: number }) => [r.what, r.n]));
  const promised = byName([...model.messages]);
  if (announced !== promised) fail(run, at(`the outbox holds ${announced}; the model says ${promised}`));
  // The global daily limit's totals: every void gave its amount back to the day it was requested on.
  const days = JSON.stringify(
    Object.fromEntries(rows[3]!.rows.map((r: { day: string; total: string }) => [r.day, r.total])),
  );
  const dayTotals = JSON.stringify(model.dayTotals());
  if (days !== dayTotals) fail(run, at(`withdrawal_days holds ${days}; the model says ${dayTotals}`));
}

/** The op as it runs: only a reward run has more than one transaction to crash in. */
const effective = (op: Op): Op =>
  op.crash && op.kind !== 'accrue' ? { ...op, crash: { ...op.crash, transaction: 1 } } : op;

async function perform(run: Run, op: Op) {
  const withPlan = effective(op);
  switch (withPlan.kind) {
    case 'deposit':
      return depositOp(run, withPlan);
    case 'chain':
      return chainOp(run, withPlan);
    case 'redeliver':
      return redeliverOp(run, withPlan);
    case 'request':
      return requestOp(run, withPlan);
    case 'move':
      return moveOp(run, withPlan);
    case 'race':
      return raceOp(run, withPlan);
    case 'requests':
      return requestsOp(run, withPlan);
    case 'moves':
      return movesOp(run, withPlan);
    case 'accrue':
      return accrueOp(run, withPlan);
  }
}

const LEDGER_TABLES = [
  'deposits',
  'referral_commissions',
  'journal_entries',
  'journal_transfers',
  'accounts',
  'ledger_outbox',
  'withdrawals',
  'withdrawal_days',
  'reward_accruals',
  'reward_periods',
];

describe('ledger against a model (seeded, 10,000 operations)', function () {
  this.timeout(900_000);
  let db: TestDatabase;
  let crashable: pg.Pool;

  before(async () => {
    db = await createTestDatabase('ledger_model');
    crashable = createPool(db.url, 4, silent);
  });
  after(async () => {
    await crashable?.end();
    await db?.drop();
  });

  it('answers, balances and ledger.check equal the model after every step, crashes and redeliveries included', async () => {
    const seed = process.env.LEDGER_MODEL_SEED
      ? Number(process.env.LEDGER_MODEL_SEED)
      : Math.floor(Math.random() * 2 ** 31);
    const path = process.env.LEDGER_MODEL_PATH;
    console.log(
      `      ledger model: seed ${seed}${path ? `, path ${path}` : ''} (LEDGER_MODEL_SEED=${seed} replays it)`,
    );
    let failedAt: number | undefined;
    /** The step at which the last failing run (the one reported) failed. */
    let failedStep = 0;
    let operations = 0;
    const property = fc.asyncProperty(rulesArb, opsArb, async (rules, ops) => {
      // Shrinking is bounded: past the deadline every candidate passes, and the smallest failure so far is reported.
      if (failedAt !== undefined && Date.now() - failedAt > SHRINK_MS) return;
      await db.pool.query(`TRUNCATE ${LEDGER_TABLES.join(', ')} RESTART IDENTITY`);
      const system = await ensureSystemAccounts(db.pool);
      const run: Run = {
        db,
        desk: new WithdrawalDesk(db.pool, system, rules.withdrawal),
        crashable,
        system,
        rules,
        model: new LedgerModel(rules, USERS, uplinesOf),
        clock: T0,
        step: 0,
        keys: 0,
        stamped: new Set(),
      };
      try {
        for (const { kept, op } of ops) {
          if (!kept) continue;
          run.step++;
          try {
            await perform(run, op);
            await verify(run, 'after it');
          } catch (error) {
            throw new Error(`${(error as Error).message}\n  at ${describeOp(effective(op))}`, { cause: error });
          }
          if (failedAt === undefined) operations++;
        }
      } catch (error) {
        failedAt ??= Date.now();
        failedStep = run.step;
        throw error;
      }
    });
    // A replayed path is the shrunk case itself: no shrinking again.
    const details = await fc.check(property, { seed, numRuns: RUNS, ...(path ? { path, endOnFailure: true } : {}) });
    if (details.failed) {
      const replay = `LEDGER_MODEL_SEED=${details.seed} LEDGER_MODEL_PATH=${details.counterexamplePath}`;
      const [rules, ops] = details.counterexample ?? [undefined, []];
      const kept = ops
        .filter((o) => o.kept)
        .slice(0, failedStep)
        .map((o, i) => `  ${i + 1}. ${describeOp(effective(o.op))}`);
      throw new Error(
        [
          `the ledger and the model disagree (seed ${details.seed}, shrunk ${details.numShrinks} times):`,
          (details.errorInstance as Error | undefined)?.message ?? String(details.errorInstance),
          `rules: ${describeOp(rules)}`,
          `operations up to the failing one:`,
          ...kept,
          `replay: ${replay} npx mocha --node-option import=tsx --timeout 600000 --exit test/integration/ledger-model.spec.ts`,
        ].join('\n'),
      );
    }
    const exercised = [...seen].sort(([a], [b]) => (a < b ? -1 : 1)).map(([what, n]) => `${what} ${n}`);
    console.log(`      ${operations} operations: ${exercised.join('; ')}`);
    if (!path) expect(operations, 'operations run').to.equal(RUNS * OPS_PER_RUN);
  });
});
