// `npm run bench [-- ledger|ledger-holds|ledger-latency|ledger-hot-row|payouts|chain|faults|broadcast|broadcast-100k]`: runs the benchmarks, prints a table, writes bench/results/<name>.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { benchLedger } from './ledger';
import { machine } from './stats';

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const run = (name: string) => wanted.length === 0 || wanted.includes(name);
// `--one-per-transaction`: the ledger benchmarks without group commit, each request in its own transaction.
const batching = process.argv.includes('--one-per-transaction') ? 'one-per-transaction' : 'group-commit';
const results: Record<string, unknown> = { machine: machine(), at: new Date().toISOString() };

if (run('ledger')) {
  const ledger = await benchLedger({ deposits: 10_000, concurrency: 32, rate: 500, rateSeconds: 10, users: 2_000 });
  results.ledger = ledger;
  console.log('\nLedger: deposit credits with three referral legs (PostgreSQL)');
  console.table({
    'max throughput': { 'credits/s': ledger.maxThroughput.creditsPerSecond, ...ledger.maxThroughput.latencyMs },
    [`fixed ${ledger.fixedRate.ratePerSecond}/s`]: {
      'credits/s': ledger.fixedRate.ratePerSecond,
      ...ledger.fixedRate.latencyMs,
    },
  });
}

if (run('ledger-holds')) {
  const { benchLedgerHolds } = await import('./withdrawals');
  const holds = await benchLedgerHolds({ users: 1_000, holds: 20_000, concurrency: 64, batching });
  results.ledgerHolds = holds;
  console.log(`\nLedger: withdrawal holds, then their posts, over ${holds.users} users (closed loop, ${batching})`);
  console.table({
    holds: { 'per second': holds.holds.perSecond, ...holds.holds.latencyMs },
    posts: { 'per second': holds.posts.perSecond, ...holds.posts.latencyMs },
  });
  console.log(`two-leg transfers per second, holds and posts together: ${holds.transfersPerSecond}`);
}

if (run('ledger-latency')) {
  const { benchLedgerLatency } = await import('./withdrawals');
  const latency = await benchLedgerLatency({ users: 1_000, rate: 1_000, seconds: 10, batching });
  results.ledgerLatency = latency;
  console.log(
    `\nLedger: holds and posts at a fixed ${latency.ratePerSecond}/s over ${latency.users} users (open loop, ${batching})`,
  );
  console.table({ [`${latency.holds} holds + ${latency.posts} posts`]: latency.latencyMs });
}

if (run('ledger-hot-row')) {
  const { benchLedgerHotRow } = await import('./withdrawals');
  const hot = await benchLedgerHotRow({ requests: 12_000, fits: 10_000, concurrency: 64, batching });
  results.ledgerHotRow = hot;
  console.log(`\nLedger: one user's balance row, more requests than it covers (closed loop, ${batching})`);
  console.table({
    'requests (held or refused)': { 'per second': hot.requests.perSecond, ...hot.requests.latencyMs },
    posts: { 'per second': hot.posts.perSecond, ...hot.posts.latencyMs },
  });
  console.log(
    `${hot.requests.count} requests: ${hot.holds.count} held (${hot.holds.perSecond}/s), ${hot.refused.count} refused ` +
      `${hot.refused.type}; lowest balance replayed ${hot.lowestBalance}; ${hot.invariants}`,
  );
}

if (run('payouts')) {
  const { benchPayouts } = await import('./payouts');
  const payouts = await benchPayouts({ burst: 200, rate: 20, seconds: 10 });
  results.payouts = payouts;
  console.log('\nPayouts: signed and broadcast on Anvil by the payout service (DRY_RUN=false)');
  const row = (p: typeof payouts.burst) => ({
    'per second': p.broadcastPerSecond,
    'first (ms)': p.firstBroadcastMs,
    ...p.approvalToBroadcastMs,
  });
  console.table({
    [`${payouts.burst.withdrawals} approved at once: approval → broadcast (ms)`]: row(payouts.burst),
    [`approved at ${payouts.steady.ratePerSecond}/s for ${payouts.steady.seconds} s: approval → broadcast (ms)`]: row(
      payouts.steady,
    ),
  });
  console.log(payouts.invariants);
}

if (run('chain')) {
  const { benchChainMonitor } = await import('./chain-monitor');
  const chain = await benchChainMonitor({ transfers: 10_000, blocks: 20_000, latencySamples: 40 });
  results.chainMonitor = chain;
  console.log('\nchain-monitor: catch-up over an Anvil history, and credit latency after the confirming block');
  console.table({
    'catch-up': {
      blocks: chain.catchUp.blocks,
      transfers: chain.catchUp.transfers,
      seconds: chain.catchUp.seconds,
      'blocks/s': chain.catchUp.blocksPerSecond,
    },
  });
  console.table({ 'credited after confirming block (ms)': chain.creditLatencyMs });
}

if (run('faults')) {
  const { benchFaults } = await import('./faults');
  const faults = await benchFaults();
  results.faults = faults;
  console.log('\nRecovery under faults (private PostgreSQL, child processes)');
  console.table({
    [`PostgreSQL restart (${faults.postgresRestart.outageSeconds} s down): ready again (ms)`]:
      faults.postgresRestart.readyMs,
    'PostgreSQL restart: every deposit credited (ms)': faults.postgresRestart.creditedMs,
    [`notifier SIGKILL (${faults.notifierKill.messages} messages): last message after the kill (ms)`]:
      faults.notifierKill.lastMessageAfterKillMs,
    'ledger SIGKILL: slowest idempotent call after the kill (ms)': faults.ledgerKill.slowestCallMs,
  });
  console.log(
    `notifier kills: ${faults.notifierKill.recipientsWithTwo} recipient(s) got a resent credit notice; ` +
      `ledger kills: ${faults.ledgerKill.failed} of ${faults.ledgerKill.calls} calls failed`,
  );
}

// Not in the default run (long): `npm run bench -- broadcast broadcast-100k`. BENCH_BROADCAST_RECIPIENTS scales them.
const broadcastRecipients = (fallback: number) => Number(process.env.BENCH_BROADCAST_RECIPIENTS ?? fallback);

if (wanted.includes('broadcast')) {
  const { benchBroadcast } = await import('./broadcast');
  const broadcast = await benchBroadcast({ recipients: broadcastRecipients(10_000) });
  results.broadcast = broadcast;
  console.log('\nBroadcast: one campaign at the free limit (emulator enforces 30/s), then paid at 1,000/s');
  const row = (c: typeof broadcast.paid) => ({
    recipients: c.recipients,
    seconds: c.seconds,
    'sent/s': c.perSecond,
    '% of rate': c.percentOfRate,
    '429s': c.tooManyRequests,
    ambiguous: c.ambiguous,
  });
  console.table({ 'free (30/s)': row(broadcast.free), 'paid (1,000/s)': row(broadcast.paid) });
  console.table({
    [`${broadcast.free.transactional.messages} transactional messages meanwhile (ms)`]:
      broadcast.free.transactional.latencyMs,
  });
}

if (wanted.includes('broadcast-100k')) {
  const { benchBroadcast100k } = await import('./broadcast');
  const big = await benchBroadcast100k({ recipients: broadcastRecipients(100_000) });
  results.broadcast100k = big;
  console.log(`\nBroadcast: ${big.recipients} recipients at 1,000/s, the broadcaster SIGKILLed halfway`);
  console.table({
    [`${big.recipients} recipients`]: {
      'RSS MB (idle)': big.rssMb.idle,
      'RSS MB (first run)': big.rssMb.firstRun,
      'RSS MB (after restart)': big.rssMb.afterRestart,
      'resume ms (from spawn)': big.resumeMs.fromSpawn,
      'resume ms (from started)': big.resumeMs.fromStarted,
      sent: big.sent,
      ambiguous: big.ambiguous,
      seconds: big.seconds,
    },
  });
}

await mkdir('bench/results', { recursive: true });
const file = `bench/results/bench-${Date.now()}.json`;
await writeFile(file, JSON.stringify(results, null, 2));
console.log(`\n${machine()}\nresults written to ${file}`);
process.exit(0);
