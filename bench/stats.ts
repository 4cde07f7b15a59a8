// Small helpers shared by the benchmarks: percentiles, fixed-rate pacing, and the results table.
import { cpus, totalmem } from 'node:os';

export function percentile(sortedMs: number[], p: number): number {
  if (sortedMs.length === 0) return NaN;
  const index = Math.min(sortedMs.length - 1, Math.ceil((p / 100) * sortedMs.length) - 1);
  return sortedMs[Math.max(0, index)]!;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarise(latenciesMs: number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

/** Runs `count` jobs with at most `concurrency` in flight; returns each job's latency in ms. */
export async function runClosedLoop(
  count: number,
  concurrency: number,
  job: (i: number) => Promise<unknown>,
): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const started = performance.now();
        await job(i);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return latencies;
}

/** Starts jobs at a fixed rate (open loop), so latency includes any queueing the system causes. */
export async function runAtRate(
  ratePerSecond: number,
  seconds: number,
  job: (i: number) => Promise<unknown>,
): Promise<number[]> {
  const total = Math.round(ratePerSecond * seconds);
  const latencies: number[] = [];
  const started = performance.now();
  const running: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    running.push(
      job(i).then(() => {
        latencies.push(performance.now() - due);
      }),
    );
  }
  await Promise.all(running);
  return latencies;
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}
