// lib/jobs.ts on real parts: BullMQ job schedulers in the shared Redis (a namespace per test), job_runs in a
// PostgreSQL schema of the spec's own, and a private Redis for the outage. Replicas are startJobs instances with the
// same namespace, as separate processes would be. Each test names its jobs apart: job_runs has one row per name.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { jobsAction } from '../../lib/contracts';
import { startJobs, type Jobs, type JobsOptions, type JobTick, type ScheduledJob } from '../../lib/jobs';
import { createRedis, type Redis } from '../../lib/redis';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startPrivateRedis } from '../support/private-servers';
import { deleteNamespaceKeys } from '../support/redis';
import { eventually } from '../support/system';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const rejection = (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => expect.fail('expected a rejection'),
    (error: Error) => error,
  );

interface LogLine {
  level: number;
  msg: string;
  job?: string;
  err?: { message: string };
}

interface Run {
  replica: string;
  scheduledAt: number;
  startedAt: number;
}

describe('jobs (lib/jobs.ts)', function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let redis: Redis;
  let namespace: string;
  let running: Jobs[];
  let lines: LogLine[];

  before(async () => {
    db = await createTestDatabase('jobs');
    redis = createRedis('redis://127.0.0.1:6379');
  });

  after(async () => {
    redis?.disconnect();
    await db?.drop();
  });

  beforeEach(() => {
    namespace = `jobs-${randomBytes(4).toString('hex')}`;
    running = [];
    lines = [];
  });

  afterEach(async () => {
    for (const jobs of running) await jobs.stop();
    await deleteNamespaceKeys(redis, namespace);
  });

  /** One replica: its own Redis connections, the shared job_runs, a log the test can read. */
  function replica(jobs: ScheduledJob[], options: Partial<JobsOptions> = {}): Jobs {
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
    const started = startJobs({ redis: 'redis://127.0.0.1:6379', namespace, log, pool: db.pool, jobs, ...options });
    running.push(started);
    return started;
  }

  /** A job that notes which replica ran which tick. */
  function tickJob(name: string, schedule: { every: number } | { pattern: string }, runs: Run[], who: string) {
    return {
      name,
      ...schedule,
      run: async ({ scheduledAt }: JobTick) => {
        runs.push({ replica: who, scheduledAt: scheduledAt.getTime(), startedAt: Date.now() });
        return { replica: who };
      },
    };
  }

  const jobRun = async (name: string) =>
    (
      await db.pool.query<{
        last_started_at: Date | null;
        last_finished_at: Date | null;
        last_status: string | null;
        last_error: string | null;
        last_summary: Record<string, unknown> | null;
        runs: number;
      }>('SELECT * FROM job_runs WHERE name = $1', [name])
    ).rows[0];

  it('runs each tick once across two replicas, missing none, and records the last run', async () => {
    const runs: Run[] = [];
    const a = replica([tickJob('tick', { every: 1000 }, runs, 'a')]);
    const b = replica([tickJob('tick', { every: 1000 }, runs, 'b')]);
    await Promise.all([a.ready, b.ready]);
    await eventually(async () => runs.length >= 4, 'four ticks', 10_000);
    await a.stop();
    await b.stop();

    const ticks = runs.map((r) => r.scheduledAt);
    expect(new Set(ticks).size, 'no tick ran twice').to.equal(ticks.length);
    const gaps = ticks.slice(1).map((tick, i) => tick - ticks[i]!);
    expect(gaps, 'no tick was skipped').to.deep.equal(gaps.map(() => 1000));
    for (const run of runs) expect(run.startedAt - run.scheduledAt, 'each tick ran on time').to.be.below(900);

    const row = await jobRun('tick');
    expect(row).to.include({ last_status: 'ok', last_error: null, runs: runs.length });
    expect(row!.last_summary).to.deep.equal({ replica: runs.at(-1)!.replica });
    expect(row!.last_finished_at!.getTime()).to.be.at.least(row!.last_started_at!.getTime());
    expect(lines.filter((l) => l.msg === 'job tick finished')).to.have.length(runs.length);
  });

  it('never runs one job twice at once, even when a run outlasts its interval', async () => {
    const spans: { start: number; end: number }[] = [];
    const slowTick = (): ScheduledJob => ({
      name: 'overlong',
      every: 300,
      run: async () => {
        const start = Date.now();
        await delay(700);
        spans.push({ start, end: Date.now() });
      },
    });
    const a = replica([slowTick()]);
    const b = replica([slowTick()]);
    await eventually(async () => spans.length >= 3, 'three runs', 10_000);
    await a.stop();
    await b.stop();
    spans.sort((x, y) => x.start - y.start);
    for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).to.be.at.least(spans[i - 1]!.end);
  });

  it('records a failed run, logs it, and keeps running later ticks', async () => {
    let calls = 0;
    let seenBySecondRun: Awaited<ReturnType<typeof jobRun>>;
    const jobs = replica([
      {
        name: 'flaky',
        every: 500,
        run: async () => {
          calls++;
          if (calls === 1) throw new Error('provider down');
          if (calls === 2) seenBySecondRun = await jobRun('flaky');
          return { calls };
        },
      },
    ]);
    await eventually(async () => calls >= 3, 'three runs', 10_000);
    const [status] = await jobs.status();
    await jobs.stop();

    expect(seenBySecondRun, 'the failure as recorded before the next run').to.include({
      last_status: 'failed',
      last_error: 'provider down',
      last_summary: null,
      runs: 1,
    });
    const failures = lines.filter((l) => l.msg === 'job flaky failed');
    expect(failures).to.have.length(1);
    expect(failures[0]).to.include({ job: 'flaky', level: 50 });
    expect(failures[0]!.err?.message).to.equal('provider down');

    const row = await jobRun('flaky');
    expect(row).to.include({ last_status: 'ok', last_error: null, runs: calls });
    expect(status).to.include({ name: 'flaky', lastStatus: 'ok', lastError: null });
  });

  const missedCases: [string, { every: number } | { pattern: string }, number][] = [
    ['missed-interval', { every: 500 }, 500],
    ['missed-cron', { pattern: '* * * * * *' }, 1000],
  ];
  for (const [name, schedule, every] of missedCases) {
    it(`runs a tick missed while no replica ran late, once (${JSON.stringify(schedule)})`, async () => {
      const runs: Run[] = [];
      const first = replica([tickJob(name, schedule, runs, 'first')]);
      await eventually(async () => runs.length >= 1, 'a first run', 10_000);
      await first.stop();
      const lastBeforeStop = Math.max(...runs.map((r) => r.scheduledAt));

      await delay(2 * every + 700); // at least two ticks come due with no worker anywhere
      const returnedAt = Date.now();
      const second = replica([tickJob(name, schedule, runs, 'second')]);
      await eventually(async () => runs.filter((r) => r.replica === 'second').length >= 3, 'three runs', 10_000);
      await second.stop();

      const afterReturn = runs.filter((r) => r.replica === 'second');
      const late = afterReturn.filter((r) => r.scheduledAt < returnedAt);
      expect(late, 'exactly one late run').to.have.length(1);
      expect(late[0]!.scheduledAt, 'the tick that was waiting').to.equal(lastBeforeStop + every);
      expect(late[0]!.startedAt - returnedAt, 'run as soon as a worker returned').to.be.below(1500);
      expect(afterReturn[0], 'the late run came first').to.equal(late[0]);
      for (const run of afterReturn.slice(1)) expect(run.scheduledAt).to.be.at.least(returnedAt);
      expect((await jobRun(name))!.runs).to.equal(runs.length);
    });
  }

  it('stop() waits for a run in progress, and stops waiting after stopTimeoutMs', async () => {
    let begun!: () => void;
    const started = new Promise<void>((resolve) => (begun = resolve));
    let finished = false;
    const slow = replica([
      {
        name: 'slow',
        every: 500,
        run: async () => {
          begun();
          await delay(1000);
          finished = true;
          return { slept: 1000 };
        },
      },
    ]);
    await started;
    await slow.stop();
    expect(finished, 'the run finished before stop() resolved').to.equal(true);
    expect(await jobRun('slow')).to.include({ last_status: 'ok', runs: 1 });
    expect((await jobRun('slow'))!.last_summary).to.deep.equal({ slept: 1000 });

    let stuckBegun!: () => void;
    const stuckStarted = new Promise<void>((resolve) => (stuckBegun = resolve));
    const stuck = replica(
      [
        {
          name: 'stuck',
          every: 500,
          run: () => {
            stuckBegun();
            return new Promise(() => undefined);
          },
        },
      ],
      { stopTimeoutMs: 300 },
    );
    await stuckStarted;
    const stopping = Date.now();
    await stuck.stop();
    expect(Date.now() - stopping).to.be.within(250, 5000);
    expect(lines.some((l) => l.msg === 'scheduled jobs: stopping without waiting longer for a run')).to.equal(true);
    expect((await jobRun('stuck'))!.last_finished_at).to.equal(null);
  });

  it('runs a job now on request and reports every job for operators', async () => {
    let n = 0;
    const jobs = replica([
      { name: 'report', every: 3_600_000, run: async ({ manual }) => ({ manual, n: ++n }) },
      { name: 'nightly', pattern: '0 3 * * *', run: async () => Promise.reject(new Error('disk full')) },
    ]);
    await jobs.ready;

    const before = await jobs.status();
    expect(before.map((s) => s.name)).to.deep.equal(['report', 'nightly']);
    expect(before[0]).to.include({ every: 3_600_000, pattern: null, running: false, lastStatus: null, runs: 0 });
    expect(Date.parse(before[0]!.nextRunAt!) - Date.now()).to.be.within(3_500_000, 3_600_000);
    expect(before[1]).to.include({ every: null, pattern: '0 3 * * *', tz: 'UTC' });
    expect(new Date(before[1]!.nextRunAt!).toISOString()).to.match(/T03:00:00\.000Z$/);

    expect(await jobs.runNow('report')).to.deep.equal({ manual: true, n: 1 });
    expect((await rejection(jobs.runNow('nightly'))).message).to.equal('job nightly failed: disk full');
    expect((await rejection(jobs.runNow('unknown'))).message).to.match(/^no scheduled job named unknown here/);

    const after = await jobs.status();
    expect(after[0]).to.include({ lastStatus: 'ok', runs: 1, running: false });
    expect(after[0]!.lastSummary).to.deep.equal({ manual: true, n: 1 });
    expect(after[1]).to.include({ lastStatus: 'failed', lastError: 'disk full', runs: 1 });
    // What `<service>.jobs` answers, as its contract parses it.
    expect(jobsAction('any').result.parse(after)).to.deep.equal(after);
  });

  it('survives Redis going away and coming back empty: the schedule is made again, runs resume, stop() still ends', async () => {
    const server = await startPrivateRedis();
    try {
      const runs: Run[] = [];
      const jobs = replica([tickJob('outage-tick', { every: 300 }, runs, 'only')], { redis: server.url });
      await eventually(async () => runs.length >= 2, 'two runs', 10_000);
      await server.kill();
      await delay(1500);
      const during = runs.length;
      await server.start();
      await eventually(async () => runs.length >= during + 2, 'runs after Redis returned', 15_000);
      await server.kill();
      const stopping = Date.now();
      await jobs.stop();
      expect(Date.now() - stopping, 'stop() during an outage is bounded too').to.be.below(3000);
      const errors = lines.filter((l) => l.level >= 50);
      expect(errors.length, 'the outage logged once, not per attempt').to.be.within(1, 3);
      expect(lines.some((l) => l.msg === 'scheduled jobs: Redis works again')).to.equal(true);
    } finally {
      await server.destroy();
    }
  });
});
