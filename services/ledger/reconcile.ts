// Proves the books against the chain (`call ledger.reconcile`). Three comparisons, each difference named with the
// rows behind it:
// - credited deposits = chain-monitor's confirmed transfers matched to users (same user and amount, key by key);
// - posted payouts = the payout service's paid payouts (same amount and transaction);
// - the platform's wallets (system wallet, hot wallet) against their token balances at the confirmed block: every
//   transfer in or out is explained as a confirmed deposit, a move between the two, outside funding of the hot
//   wallet, or a paid payout; anything else is named, and what is left (an opening balance, a missed log) shows as
//   the balance difference. The wallets must also cover what users are owed.
import type pg from 'pg';
import type { Reconciliation } from '../../lib/contracts';

export interface ChainDeposit {
  txHash: string;
  logIndex: number;
  blockNumber: string;
  from: string;
  userId: string | null;
  amount: string;
}

export interface PaidPayout {
  withdrawalId: string;
  amount: string;
  destination: string;
  txHash: string;
  blockNumber: string;
}

export interface Flow {
  txHash: string;
  logIndex: number;
  blockNumber: string;
  from: string;
  to: string;
  amount: string;
}

export interface ReconcileInputs {
  /** The ledger's credited deposits whose transaction is on the chain (not reorged out). */
  credited: { txHash: string; logIndex: number; userId: string; amount: string }[];
  /** The ledger's paid withdrawals. */
  posted: { withdrawalId: string; amount: string; txHash: string | null }[];
  /** What users are owed (available + held). */
  liabilities: bigint;
  confirmed: ChainDeposit[];
  paid: PaidPayout[];
  wallets: {
    system: string;
    hot: string | null;
    toBlock: string;
    balances: Record<string, string>;
    flows: Flow[];
  };
}

type Difference = Reconciliation['differences'][number];

const key = (t: { txHash: string; logIndex: number }) => `${t.txHash.toLowerCase()}:${t.logIndex}`;
const sum = (values: Iterable<string | bigint>) => [...values].reduce<bigint>((s, v) => s + BigInt(v), 0n);
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function reconcile(inputs: ReconcileInputs): Reconciliation {
  const differences: Difference[] = [];
  const add = (kind: string, detail: string, rows: string[]) => {
    if (rows.length > 0) differences.push({ kind, detail, rows: rows.slice(0, 100) });
  };

  // ---- Deposits ---------------------------------------------------------------------------------------------------
  const matched = inputs.confirmed.filter((d) => d.userId !== null);
  const onChain = new Map(matched.map((d) => [key(d), d]));
  const inBooks = new Map(inputs.credited.map((d) => [key(d), d]));
  add(
    'deposit_not_credited',
    'confirmed on chain and matched to a user, but not credited by the ledger',
    matched.filter((d) => !inBooks.has(key(d))).map((d) => `${key(d)} user ${d.userId} amount ${d.amount}`),
  );
  add(
    'credit_without_deposit',
    "credited by the ledger, but not among chain-monitor's confirmed matched transfers",
    inputs.credited.filter((d) => !onChain.has(key(d))).map((d) => `${key(d)} user ${d.userId} amount ${d.amount}`),
  );
  add(
    'deposit_mismatch',
    'credited to another user or with another amount than the chain shows',
    inputs.credited.flatMap((d) => {
      const c = onChain.get(key(d));
      return c && (c.userId !== d.userId || c.amount !== d.amount)
        ? [`${key(d)} books: user ${d.userId} amount ${d.amount}; chain: user ${c.userId} amount ${c.amount}`]
        : [];
    }),
  );

  // ---- Payouts ----------------------------------------------------------------------------------------------------
  const paid = new Map(inputs.paid.map((p) => [p.withdrawalId, p]));
  const posted = new Map(inputs.posted.map((p) => [p.withdrawalId, p]));
  add(
    'payout_not_posted',
    'paid by the payout service, but the withdrawal is not posted in the ledger',
    inputs.paid.filter((p) => !posted.has(p.withdrawalId)).map((p) => `withdrawal ${p.withdrawalId} tx ${p.txHash}`),
  );
  add(
    'posted_without_payout',
    'posted in the ledger, but the payout service has no paid payout for it',
    inputs.posted.filter((p) => !paid.has(p.withdrawalId)).map((p) => `withdrawal ${p.withdrawalId}`),
  );
  add(
    'payout_mismatch',
    'posted with another amount or transaction than the payout service paid',
    inputs.posted.flatMap((p) => {
      const q = paid.get(p.withdrawalId);
      return q && (q.amount !== p.amount || !same(q.txHash, p.txHash ?? ''))
        ? [`withdrawal ${p.withdrawalId} books: ${p.amount} tx ${p.txHash}; payout: ${q.amount} tx ${q.txHash}`]
        : [];
    }),
  );

  // ---- The platform's wallets -------------------------------------------------------------------------------------
  const { system, hot, flows, toBlock } = inputs.wallets;
  const platform = (address: string) => same(address, system) || (hot !== null && same(address, hot));
  const confirmedKeys = new Set(inputs.confirmed.map(key));
  const payoutByTx = new Map(inputs.paid.map((p) => [p.txHash.toLowerCase(), p]));
  const deposits: Flow[] = [];
  const funding: Flow[] = [];
  const payouts: Flow[] = [];
  const unexplainedIn: Flow[] = [];
  const unexplainedOut: Flow[] = [];
  for (const f of flows) {
    if (platform(f.from) && platform(f.to)) continue; // a move between the platform's own wallets
    if (same(f.to, system)) (confirmedKeys.has(key(f)) ? deposits : unexplainedIn).push(f);
    else if (hot && same(f.to, hot)) funding.push(f);
    else {
      const p = payoutByTx.get(f.txHash.toLowerCase());
      (p && same(f.from, hot ?? '') && same(p.destination, f.to) && p.amount === f.amount
        ? payouts
        : unexplainedOut
      ).push(f);
    }
  }
  const describe = (f: Flow) => `${key(f)} block ${f.blockNumber} ${f.from} → ${f.to} amount ${f.amount}`;
  add(
    'inflow_not_confirmed',
    "a transfer into the system wallet that is not among chain-monitor's confirmed deposits (is it behind?)",
    unexplainedIn.map(describe),
  );
  add(
    'outflow_not_a_payout',
    'a transfer out of the platform wallets that is no paid payout',
    unexplainedOut.map(describe),
  );
  const payoutTxs = new Set(payouts.map((f) => f.txHash.toLowerCase()));
  add(
    'payout_not_on_chain',
    "a paid payout whose transfer is not among the hot wallet's transfers up to the confirmed block",
    inputs.paid
      .filter((p) => BigInt(p.blockNumber) <= BigInt(toBlock) && !payoutTxs.has(p.txHash.toLowerCase()))
      .map((p) => `withdrawal ${p.withdrawalId} tx ${p.txHash} block ${p.blockNumber}`),
  );
  const balance = sum(Object.values(inputs.wallets.balances));
  const explained = sum(deposits.map((f) => f.amount)) + sum(funding.map((f) => f.amount));
  const spent = sum(payouts.map((f) => f.amount)) + sum(unexplainedOut.map((f) => f.amount));
  const expected = explained + sum(unexplainedIn.map((f) => f.amount)) - spent;
  if (balance !== expected)
    add('wallet_balance', 'the wallets hold another amount than their transfers explain (an opening balance?)', [
      `on chain ${balance} at block ${toBlock}, by their transfers ${expected}, difference ${balance - expected}`,
    ]);
  if (balance < inputs.liabilities)
    add('insolvent', 'the platform wallets hold less than users are owed', [
      `wallets ${balance}, owed to users ${inputs.liabilities}, short by ${inputs.liabilities - balance}`,
    ]);

  return {
    ok: differences.length === 0,
    differences,
    totals: {
      credited: sum(inputs.credited.map((d) => d.amount)).toString(),
      confirmedMatched: sum(matched.map((d) => d.amount)).toString(),
      confirmedUnmatched: sum(inputs.confirmed.filter((d) => d.userId === null).map((d) => d.amount)).toString(),
      posted: sum(inputs.posted.map((p) => p.amount)).toString(),
      paid: sum(inputs.paid.map((p) => p.amount)).toString(),
      walletBalances: balance.toString(),
      hotWalletFunding: sum(funding.map((f) => f.amount)).toString(),
      owedToUsers: inputs.liabilities.toString(),
      toBlock,
    },
  };
}

/** The ledger's side of the comparison. */
export async function booksForReconciliation(pool: pg.Pool) {
  const [credited, posted, owed] = await Promise.all([
    pool.query<{ tx_hash: string; log_index: number; user_id: string; amount: string }>(
      'SELECT tx_hash, log_index, user_id::text, amount::text FROM deposits WHERE reorged_at IS NULL',
    ),
    pool.query<{ id: string; amount: string; tx_hash: string | null }>(
      "SELECT id::text, amount::text, tx_hash FROM withdrawals WHERE status = 'paid'",
    ),
    pool.query<{ total: string }>(
      'SELECT COALESCE(SUM(balance), 0)::text AS total FROM accounts WHERE user_id IS NOT NULL',
    ),
  ]);
  return {
    credited: credited.rows.map((r) => ({
      txHash: r.tx_hash,
      logIndex: r.log_index,
      userId: r.user_id,
      amount: r.amount,
    })),
    posted: posted.rows.map((r) => ({ withdrawalId: r.id, amount: r.amount, txHash: r.tx_hash })),
    liabilities: BigInt(owed.rows[0]!.total),
  };
}
