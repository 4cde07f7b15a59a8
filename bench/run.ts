// `npm run bench [-- ledger|chain|faults]`: runs the benchmarks, prints a table, writes bench/results/<name>.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { benchLedger } from './ledger';
import { machine } from './stats';

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const run = (name: string) => wanted.length === 0 || wanted.includes(name);
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

await mkdir('bench/results', { recursive: true });
const file = `bench/results/bench-${Date.now()}.json`;
await writeFile(file, JSON.stringify(results, null, 2));
console.log(`\n${machine()}\nresults written to ${file}`);
process.exit(0);
