// A plain in-memory model of the ledger for test/integration/ledger-model.spec.ts: what every answer, balance and
// total should be, written from the rules (docs/ARCHITECTURE.md "Money", the configuration's descriptions) and not
// from the SQL. Each prediction is computed first and applied only once the real operation is known to have
// committed, so a crash before its commit leaves the model as it was.
import type { LedgerCheck, Upline, WithdrawalStatus } from '../../lib/contracts';
import { RATE_SCALE } from '../../lib/money';
import type { CreditRules } from '../../services/ledger/deposits';
import type { RewardRules } from '../../services/ledger/rules';
import type { WithdrawalRules } from '../../services/ledger/withdrawals';

export const HOUR = 3_600_000;
const hourOf = (t: number) => Math.floor(t / HOUR) * HOUR;
/** One reward run catches up at most a week of hours; the next one goes on. */
const MAX_HOURS_PER_RUN = 24 * 7;

export interface ModelRules {
  credit: CreditRules;
  withdrawal: WithdrawalRules;
  reward: RewardRules;
}

/** One state of a transfer as chain-monitor announces it; `revision` grows with each. */
export interface ChainFact {
  revision: number;
  reorgedOut: boolean;
  blockNumber: string;
  blockHash: string;
}

export interface ModelDeposit {
  txHash: string;
  logIndex: number;
  userId: string;
  amount: bigint;
  /** Every fact chain-monitor announced about it, oldest first. */
  facts: ChainFact[];
  credited: boolean;
  /** The revision of the newest fact the ledger applied. */
  revision: number;
  reorged: boolean;
  level: number;
  creditedAt: number;
  accrued: bigint;
}

export interface ModelWithdrawal {
  /** Learnt from the answer (ids come from a sequence that rolled-back requests also use). */
  id: string | undefined;
  userId: string;
  key: string;
  amount: bigint;
  fee: bigint;
  status: WithdrawalStatus;
  decidedBy: string | null;
  rejectReason: string | null;
  txHash: string | null;
  /** The UTC day it was requested on (the global daily limit's day). */
  day: string;
}

export type StepName = 'approve' | 'reject' | 'cancel' | 'void' | 'paid' | 'simulated';

/** The withdrawal states each move leaves from, where it goes and what it does with the hold. */
const MOVES: Record<
  StepName,
  { from: WithdrawalStatus[]; to: WithdrawalStatus; resolution?: 'post' | 'void'; messages: string[] }
> = {
  approve: { from: ['pending_approval'], to: 'approved', messages: [] },
  reject: { from: ['pending_approval'], to: 'rejected', resolution: 'void', messages: ['withdrawal.rejected'] },
  cancel: { from: ['pending_approval'], to: 'cancelled', resolution: 'void', messages: ['withdrawal.cancelled'] },
  void: { from: ['approved'], to: 'voided', resolution: 'void', messages: ['withdrawal.voided'] },
  paid: { from: ['approved'], to: 'paid', resolution: 'post', messages: ['withdrawal.confirmed'] },
  simulated: {
    from: ['approved'],
    to: 'simulated',
    resolution: 'void',
    messages: ['withdrawal.simulated', 'admin.withdrawal_simulated'],
  },
};

/** What a withdrawal counts against the daily limits: it is paid or may still be. */
const COUNTS_AGAINST_LIMITS: readonly WithdrawalStatus[] = ['pending_approval', 'approved', 'paid'];

export type Predicted<T> = { answer: T; apply(): void };
export type Refused = { refused: string };

export interface RequestAsked {
  userId: string;
  amount: bigint;
  key: string;
  /** The available balance the caller read before asking (the confirmation step reads it unlocked). */
  available: bigint;
  wallet: 'ok' | 'none' | 'cooldown';
  today: string;
}

export interface HourAccrual {
  period: number;
  total: bigint;
  apply(): void;
}

export class LedgerModel {
  readonly balances = new Map<string, { available: bigint; held: bigint }>();
  readonly deposits: ModelDeposit[] = [];
  readonly withdrawals: ModelWithdrawal[] = [];
  /**
   * The messages the outbox must hold, by template (or channel, for withdrawals.approved): each promise once, however
   * often its cause was redelivered or retried.
   */
  readonly messages = new Map<string, number>();
  /** Users rewarded in each accrued hour (each UTC day's summary goes to them). */
  private readonly rewardedIn = new Map<number, Set<string>>();
  /** The last hour accrued, once a run has accrued one. */
  lastAccrued: number | undefined;
  readonly totals = {
    deposits: 0n,
    commissions: 0n,
    payouts: 0n,
    fees: 0n,
    rewards: 0n,
  };

  constructor(
    readonly rules: ModelRules,
    readonly userIds: readonly string[],
    private readonly uplinesOf: (userId: string) => Upline[],
  ) {
    for (const id of userIds) this.balances.set(id, { available: 0n, held: 0n });
  }

  private announce(what: string, times = 1): this {
    if (times > 0) this.messages.set(what, (this.messages.get(what) ?? 0) + times);
    return this;
  }

  /** What a withdrawal's new state announces beyond its own message: the payout's work, or the admins' decision. */
  private announceState(status: WithdrawalStatus) {
    if (status === 'approved') this.announce('withdrawal.approved').announce('withdrawals.approved');
    if (status === 'pending_approval')
      this.announce('withdrawal.pending_approval').announce('admin.withdrawal_pending');
    return this;
  }

  private balance(userId: string) {
    const b = this.balances.get(userId);
    if (!b) throw new Error(`user ${userId} is not in the model`);
    return b;
  }

  level(amount: bigint): number {
    let level = 0;
    this.rules.credit.levelThresholds.forEach((minimum, i) => {
      if (amount >= minimum) level = i + 1;
    });
    return level;
  }

  commissions(userId: string, amount: bigint): { userId: string; amount: bigint }[] {
    return this.uplinesOf(userId)
      .map((u) => ({
        userId: u.userId,
        amount: (amount * (this.rules.credit.referralRates[u.level - 1] ?? 0n)) / RATE_SCALE,
      }))
      .filter((c) => c.amount > 0n);
  }

  /** deposits.confirmed delivered: credit once, or take a newer revision (back on the chain after a reorg). */
  confirmed(d: ModelDeposit, fact: ChainFact, creditedAt: number): Predicted<'credited' | 'restored' | 'known'> {
    if (!d.credited)
      return {
        answer: 'credited',
        apply: () => {
          Object.assign(d, { credited: true, revision: fact.revision, reorged: false, level: this.level(d.amount) });
          d.creditedAt = creditedAt;
          this.balance(d.userId).available += d.amount;
          this.totals.deposits += d.amount;
          this.announce(d.level > 0 ? 'deposit.credited' : 'deposit.credited_no_level');
          for (const c of this.commissions(d.userId, d.amount)) {
            this.balance(c.userId).available += c.amount;
            this.totals.commissions += c.amount;
            this.announce('referral.commission');
          }
        },
      };
    if (fact.revision <= d.revision) return { answer: 'known', apply: () => undefined };
    const wasReorged = d.reorged;
    return {
      answer: wasReorged ? 'restored' : 'known',
      apply: () => {
        Object.assign(d, { revision: fact.revision, reorged: false });
        if (wasReorged) this.announce('admin.deposit_restored');
      },
    };
  }

  /** deposits.reorged delivered: refused (redelivered later) before the credit, otherwise only marks it. */
  reorged(d: ModelDeposit, fact: ChainFact): Predicted<'not-credited' | 'done'> {
    if (!d.credited) return { answer: 'not-credited', apply: () => undefined };
    if (fact.revision <= d.revision) return { answer: 'done', apply: () => undefined };
    const wasReorged = d.reorged;
    return {
      answer: 'done',
      apply: () => {
        Object.assign(d, { revision: fact.revision, reorged: true });
        if (!wasReorged) this.announce('admin.deposit_reorged');
      },
    };
  }

  keyOf(userId: string, key: string): ModelWithdrawal | undefined {
    return this.withdrawals.find((w) => w.userId === userId && w.key === key);
  }

  /**
   * What the confirmation step shows (ledger.quoteWithdrawal): the refusal the rules give, checked in their order
   * against the balance the caller read, or none.
   */
  quote(asked: Omit<RequestAsked, 'key'>): string | undefined {
    const { userId, amount } = asked;
    const rules = this.rules.withdrawal;
    if (amount < rules.minimum) return 'WITHDRAWAL_BELOW_MINIMUM';
    if (asked.wallet === 'none') return 'NO_WALLET';
    if (asked.wallet === 'cooldown') return 'WALLET_COOLDOWN';
    if (amount + rules.fee > asked.available) return 'INSUFFICIENT_FUNDS';
    const counted = (w: ModelWithdrawal) => (COUNTS_AGAINST_LIMITS.includes(w.status) ? w.amount : 0n);
    const sum = (ws: ModelWithdrawal[]) => ws.reduce((s, w) => s + counted(w), 0n);
    if (sum(this.withdrawals.filter((w) => w.userId === userId)) + amount > rules.dailyLimitUser)
      return 'DAILY_LIMIT_USER';
    if (sum(this.withdrawals.filter((w) => w.day === asked.today)) + amount > rules.dailyLimitGlobal)
      return 'DAILY_LIMIT_GLOBAL';
    return undefined;
  }

  /**
   * A withdrawal request: the first answer again for a known key, else the rules' refusal in their order against the
   * balance as it is when the hold decides (under the user's lock, whatever the caller read), else the hold.
   */
  request(
    asked: Omit<RequestAsked, 'available'>,
  ): Predicted<Refused | { created: boolean; withdrawal: ModelWithdrawal }> {
    const { userId, amount, key } = asked;
    const rules = this.rules.withdrawal;
    const refuse = (type: string) => ({ answer: { refused: type }, apply: () => undefined });
    const first = this.keyOf(userId, key);
    if (first)
      return first.amount === amount
        ? { answer: { created: false, withdrawal: first }, apply: () => undefined }
        : refuse('IDEMPOTENCY_CONFLICT');
    const refused = this.quote({ ...asked, available: this.balance(userId).available });
    if (refused) return refuse(refused);
    const total = amount + rules.fee;
    const withdrawal: ModelWithdrawal = {
      id: undefined,
      userId,
      key,
      amount,
      fee: rules.fee,
      status: amount > rules.autoApproveLimit ? 'pending_approval' : 'approved',
      decidedBy: null,
      rejectReason: null,
      txHash: null,
      day: asked.today,
    };
    return {
      answer: { created: true, withdrawal },
      apply: () => {
        this.withdrawals.push(withdrawal);
        const b = this.balance(userId);
        b.available -= total;
        b.held += total;
        this.announce('withdrawal.requested').announceState(withdrawal.status);
      },
    };
  }

  /** A move of a withdrawal: made once, a repeat answers the state it reached, any other state is refused. */
  move(
    w: ModelWithdrawal | undefined,
    step: StepName,
    details: { admin: string; reason: string; txHash: string },
  ): Predicted<Refused | { changed: boolean; withdrawal: ModelWithdrawal }> {
    if (!w) return { answer: { refused: 'WITHDRAWAL_NOT_FOUND' }, apply: () => undefined };
    const move = MOVES[step];
    if (!move.from.includes(w.status))
      return w.status === move.to
        ? { answer: { changed: false, withdrawal: w }, apply: () => undefined }
        : { answer: { refused: 'WITHDRAWAL_STATE' }, apply: () => undefined };
    const after: ModelWithdrawal = { ...w, status: move.to };
    if (step === 'approve' || step === 'reject' || step === 'void') after.decidedBy = details.admin;
    if (step === 'reject' || step === 'void') after.rejectReason = details.reason;
    if (step === 'paid') after.txHash = details.txHash;
    return {
      answer: { changed: true, withdrawal: after },
      apply: () => {
        Object.assign(w, after);
        const b = this.balance(w.userId);
        const total = w.amount + w.fee;
        if (move.resolution) b.held -= total;
        if (move.resolution === 'void') b.available += total;
        if (move.resolution === 'post') {
          this.totals.payouts += w.amount;
          this.totals.fees += w.fee;
        }
        this.announceState(move.to);
        for (const m of move.messages) this.announce(m);
      },
    };
  }

  /**
   * The hours a reward run at `now` accrues, each with what it pays: every complete hour after the last accrued
   * one (the first run only the hour before it). A deposit earns from the first full hour after its credit, while
   * it is on the chain, its level's daily rate pro rata per hour without rounding loss over a day, up to the cap.
   */
  accrual(now: number): HourAccrual[] {
    const last = hourOf(now) - HOUR;
    const first = this.lastAccrued === undefined ? last : this.lastAccrued + HOUR;
    if (this.rules.reward.dailyRates.every((r) => r === 0n)) return [];
    const hours: HourAccrual[] = [];
    // Each hour's prediction depends on the accruals before it: predicted on copies of `accrued`.
    const accrued = new Map(this.deposits.map((d) => [d, d.accrued]));
    for (let period = first; period <= last && hours.length < MAX_HOURS_PER_RUN; period += HOUR) {
      const earned: [ModelDeposit, bigint][] = [];
      for (const d of this.deposits) {
        if (!d.credited || d.reorged || d.level === 0 || d.creditedAt >= period) continue;
        const reward = this.hourlyReward(d, period, accrued.get(d)!);
        if (reward > 0n) {
          earned.push([d, reward]);
          accrued.set(d, accrued.get(d)! + reward);
        }
      }
      hours.push({
        period,
        total: earned.reduce((s, [, r]) => s + r, 0n),
        apply: () => {
          for (const [d, reward] of earned) {
            d.accrued += reward;
            this.balance(d.userId).available += reward;
            this.totals.rewards += reward;
          }
          this.rewardedIn.set(period, new Set(earned.map(([d]) => d.userId)));
          this.lastAccrued = period;
          // The hour that ends a UTC day sends each user rewarded that day one summary.
          if (new Date(period).getUTCHours() === 23) {
            const users = new Set<string>();
            for (let h = period - 23 * HOUR; h <= period; h += HOUR)
              this.rewardedIn.get(h)?.forEach((u) => users.add(u));
            this.announce('reward.daily_summary', users.size);
          }
        },
      });
    }
    return hours;
  }

  private hourlyReward(d: ModelDeposit, period: number, accrued: bigint): bigint {
    const rate = this.rules.reward.dailyRates[d.level - 1] ?? 0n;
    const k = BigInt((period - hourOf(d.creditedAt)) / HOUR - 1);
    if (rate === 0n || k < 0n) return 0n;
    // What the deposit is due by the end of hour k, less what it was due by its start.
    const due = (hours: bigint) => (d.amount * rate * hours) / (24n * RATE_SCALE);
    let reward = due(k + 1n) - due(k);
    if (this.rules.reward.capPercent !== undefined) {
      const cap = (d.amount * BigInt(this.rules.reward.capPercent)) / 100n;
      const left = cap > accrued ? cap - accrued : 0n;
      if (reward > left) reward = left;
    }
    return reward;
  }

  /** The global daily limit's use of each UTC day: what its requests may still pay out (days with none left out). */
  dayTotals(): Record<string, string> {
    const days = new Map<string, bigint>();
    for (const w of this.withdrawals)
      if (COUNTS_AGAINST_LIMITS.includes(w.status)) days.set(w.day, (days.get(w.day) ?? 0n) + w.amount);
    return Object.fromEntries(
      [...days]
        .filter(([, total]) => total > 0n)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([day, total]) => [day, total.toString()]),
    );
  }

  /** What ledger.check must report: its totals, and the credited deposits whose transaction left the chain. */
  expectedCheck(): { totals: LedgerCheck['totals']; reorgedTxHashes: string[] } {
    let available = 0n;
    let held = 0n;
    for (const b of this.balances.values()) {
      available += b.available;
      held += b.held;
    }
    const open = this.withdrawals
      .filter((w) => w.status === 'pending_approval' || w.status === 'approved')
      .reduce((s, w) => s + w.amount + w.fee, 0n);
    const t = this.totals;
    const s = (v: bigint) => v.toString();
    return {
      totals: {
        deposits: s(t.deposits),
        depositsClearing: s(t.deposits),
        commissions: s(t.commissions),
        referralExpense: s(t.commissions),
        userBalances: s(available + held),
        systemPaid: s(available + held),
        held: s(held),
        openWithdrawals: s(open),
        payoutsClearing: s(t.payouts),
        paidWithdrawals: s(t.payouts),
        withdrawalFees: s(t.fees),
        paidFees: s(t.fees),
        rewards: s(t.rewards),
        rewardExpense: s(t.rewards),
      },
      reorgedTxHashes: this.deposits.filter((d) => d.credited && d.reorged).map((d) => d.txHash),
    };
  }
}
