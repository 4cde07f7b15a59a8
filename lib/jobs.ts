// Every scheduled job of the platform runs through here: a BullMQ job scheduler per job keeps its schedule in Redis,
// so each tick is one BullMQ job that exactly one worker takes, however many replicas run a Worker for it. A tick that
// comes due while no worker runs waits in Redis and runs (late, once) when one returns; the ticks missed meanwhile
// are not made up. That holds only while Redis keeps its data: production Redis must persist (AOF), since a Redis
// that restarts empty loses the schedules (they are re-created when a process connects again, skipping the missed
// run). Global concurrency 1 per job means no two runs of one job overlap anywhere; a tick that comes due during a
// long run waits for it. A worker that dies mid-run leaves its job to BullMQ's stalled check (lock 30 s): another
// replica runs it again, so a run must be safe to repeat.
//
// job_runs (the last run of each job, one row per job name) belongs to this module rather than to one service: every
// service that runs jobs writes its own jobs' rows through it.
import { Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { JobStatus } from './contracts/jobs';
import type { Logger } from './logger';
import { OutageLog } from './outage-log';

export type JobSummary = Record<string, unknown>;

export interface JobTick {
  /** The tick this run is for (a late run still names the time it was due); for runNow, when it was asked for. */
  scheduledAt: Date;
  /** Asked for by runNow rather than by the schedule. */
  manual: boolean;
}

export interface ScheduledJob {
  /** Unique across the platform (`payment-retry`): it names the queue and the job_runs row. */
  name: string;
  /** Run every this many milliseconds; the first tick is one interval after the schedule is first created. */
  every?: number;
  /** Or a cron pattern (`0 3 * * *`), in `tz`. */
  pattern?: string;
  /** Time zone of `pattern` (default UTC, so replicas in different zones agree). */
  tz?: string;
  /** The work; what it returns is logged and kept in job_runs.last_summary. */
  run(tick: JobTick): Promise<JobSummary | void>;
}

export interface JobsOptions {
  /** Redis URL, or a factory of a connection with `maxRetriesPerRequest: null` (BullMQ's requirement); owned here. */
  redis: string | (() => Redis);
  /** Keys and queue names carry it, so installations sharing one Redis never share jobs. */
  namespace: string;
  log: Logger;
  /** Where job_runs lives. */
  pool: pg.Pool;
  jobs: readonly ScheduledJob[];
  /** How long stop() waits for a run in progress before it lets go (default 20 s, within Kubernetes' grace period). */
  stopTimeoutMs?: number;
}

export interface Jobs {
  /** Resolves once every schedule is in Redis (retried through an outage), or at stop. */
  readonly ready: Promise<void>;
  /** Runs a job now, on whichever replica takes it (after a run in progress), and answers its summary. */
  runNow(name: string): Promise<JobSummary>;
  /** Every job's schedule and last run. */
  status(): Promise<JobStatus[]>;
  /** Stops taking ticks and waits (bounded) for a run in progress. */
  stop(): Promise<void>;
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;
/** Finished BullMQ jobs kept in Redis for inspection; job_runs is the record that matters. */
const KEEP = { count: 50 };
const REDIS_ANSWER_MS = 2_000;
/** After the runs finished: how long BullMQ may take to record them and close before its connections are cut. */
const CLOSE_GRACE_MS = 2_000;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Whether `work` settled within `ms` (its timer cleared either way, so it keeps no process alive). */
async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

export function startJobs(options: JobsOptions): Jobs {
  const { namespace, log, pool, jobs } = options;
  const stopTimeoutMs = options.stopTimeoutMs ?? 20_000;
  for (const job of jobs) {
    if (!NAME.test(job.name)) throw new Error(`job name "${job.name}" must be lower-case letters, digits and -`);
    if ((job.every === undefined) === (job.pattern === undefined))
      throw new Error(`job ${job.name} needs exactly one of every and pattern`);
    if (job.every !== undefined && !(Number.isInteger(job.every) && job.every > 0))
      throw new Error(`job ${job.name}: every must be a positive whole number of milliseconds`);
  }
  if (new Set(jobs.map((j) => j.name)).size !== jobs.length) throw new Error('job names must be unique');

  const connection =
    typeof options.redis === 'string' ? new Redis(options.redis, { maxRetriesPerRequest: null }) : options.redis();
  if (connection.options.maxRetriesPerRequest !== null)
    throw new Error('the Redis connection for jobs needs maxRetriesPerRequest: null');
  const prefix = `${namespace}:jobs`;
  const outage = new OutageLog(log, 'scheduled jobs: Redis');
  let stopped = false;

  // A Redis outage is logged once (and reminded), never thrown: an 'error' nobody listens to would end the process.
  connection.on('error', (error: Error) => outage.failed(error));
  const onError = (error: Error) => {
    if (connection.status === 'ready') log.error({ err: error }, 'scheduled jobs: BullMQ error');
    else outage.failed(error);
  };

  const queues = new Map<string, Queue>();
  const workers: Worker[] = [];
  for (const job of jobs) {
    const queue = new Queue(job.name, { connection, prefix });
    queue.on('error', onError);
    queues.set(job.name, queue);
    const worker = new Worker(job.name, (bullJob: Job) => perform(job, tickOf(bullJob)), {
      connection,
      prefix,
      concurrency: 1,
      removeOnComplete: KEEP,
      removeOnFail: KEEP,
      // Started once the schedules are ensured, so the check of an existing schedule sees a tick still waiting.
      autorun: false,
    });
    worker.on('error', onError);
    workers.push(worker);
  }
  const queueOf = (name: string): Queue => {
    const queue = queues.get(name);
    if (!queue) throw new Error(`no scheduled job named ${name} here; known: ${[...queues.keys()].join(', ')}`);
    return queue;
  };

  const inFlight = new Set<Promise<unknown>>();
  function perform(job: ScheduledJob, tick: JobTick): Promise<JobSummary> {
    const running = performRun(job, tick);
    const settled = running.catch(() => undefined).finally(() => inFlight.delete(settled));
    inFlight.add(settled);
    return running;
  }

  async function performRun(job: ScheduledJob, tick: JobTick): Promise<JobSummary> {
    const startedAt = Date.now();
    const context = { job: job.name, scheduled_at: tick.scheduledAt.toISOString(), manual: tick.manual };
    await recordSafely(job.name, () => recordStart(pool, job.name));
    try {
      const summary = (await job.run(tick)) ?? {};
      await recordSafely(job.name, () => recordFinish(pool, job.name, 'ok', null, summary));
      log.info({ ...context, duration_ms: Date.now() - startedAt, summary }, `job ${job.name} finished`);
      return summary;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await recordSafely(job.name, () => recordFinish(pool, job.name, 'failed', message, null));
      log.error({ ...context, duration_ms: Date.now() - startedAt, err: error }, `job ${job.name} failed`);
      throw error;
    }
  }

  /** A run goes on when its record cannot be written (PostgreSQL away): the work matters more than the record. */
  async function recordSafely(name: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      log.error({ job: name, err: error }, `job ${name}: job_runs not written`);
    }
  }

  /** Creates a job's schedule, leaving an unchanged one alone: re-creating it would drop a tick waiting to run late. */
  async function ensureSchedule(job: ScheduledJob): Promise<void> {
    const queue = queueOf(job.name);
    const tz = job.pattern ? (job.tz ?? 'UTC') : undefined;
    const existing = await queue.getJobScheduler(job.name);
    const unchanged =
      existing &&
      (existing.every ?? undefined) === job.every &&
      (existing.pattern ?? undefined) === job.pattern &&
      (existing.tz ?? undefined) === tz;
    if (!unchanged) {
      const repeat = job.every ? { every: job.every, startDate: Date.now() + job.every } : { pattern: job.pattern, tz };
      await queue.upsertJobScheduler(job.name, repeat, {
        name: job.name,
        data: {},
        opts: { removeOnComplete: KEEP, removeOnFail: KEEP },
      });
      log.info({ job: job.name, every: job.every, pattern: job.pattern, tz }, `job ${job.name} scheduled`);
    }
    await queue.setGlobalConcurrency(1);
  }

  let registering: Promise<void> | undefined;
  const register = (): Promise<void> =>
    (registering ??= (async () => {
      try {
        while (!stopped) {
          try {
            for (const job of jobs) await ensureSchedule(job);
            outage.succeeded();
            return;
          } catch (error) {
            if (stopped) return;
            outage.failed(error);
            await delay(1_000);
          }
        }
      } finally {
        registering = undefined;
      }
    })());
  const ready = register().then(() => {
    if (stopped) return;
    for (const worker of workers) worker.run().catch(onError);
  });
  // A Redis that came back empty (restarted without persistence) gets the schedules again.
  let connectedBefore = connection.status === 'ready';
  connection.on('ready', () => {
    outage.succeeded();
    if (connectedBefore && !stopped) void register();
    connectedBefore = true;
  });

  /** A Redis question that answers null rather than hang while Redis is away. */
  async function askRedis<T>(question: () => Promise<T>): Promise<T | null> {
    if (connection.status !== 'ready') return null;
    let answer: T | null = null;
    await within(
      REDIS_ANSWER_MS,
      question().then(
        (value) => (answer = value),
        () => undefined,
      ),
    );
    return answer;
  }

  return {
    ready,

    async runNow(name) {
      const queue = queueOf(name);
      if (stopped) throw new Error('scheduled jobs are stopped');
      if (connection.status !== 'ready') throw new Error(`Redis is unreachable: job ${name} cannot be queued`);
      const queued = await queue.add(name, {}, { removeOnComplete: KEEP, removeOnFail: KEEP });
      for (;;) {
        const state = await queued.getState();
        if (state === 'completed' || state === 'failed') {
          const finished = await Job.fromId(queue, queued.id!);
          if (state === 'failed') throw new Error(`job ${name} failed: ${finished?.failedReason ?? 'unknown reason'}`);
          return (finished?.returnvalue ?? {}) as JobSummary;
        }
        if (stopped) throw new Error(`scheduled jobs stopped before job ${name} finished`);
        await delay(100);
      }
    },

    async status() {
      const runs = await lastRuns(
        pool,
        jobs.map((j) => j.name),
      );
      return Promise.all(
        jobs.map(async (job): Promise<JobStatus> => {
          const queue = queueOf(job.name);
          const scheduler = await askRedis(() => queue.getJobScheduler(job.name));
          const active = await askRedis(() => queue.getActiveCount());
          const run = runs.get(job.name);
          return {
            name: job.name,
            every: job.every ?? null,
            pattern: job.pattern ?? null,
            tz: job.pattern ? (job.tz ?? 'UTC') : null,
            nextRunAt: scheduler?.next ? new Date(scheduler.next).toISOString() : null,
            running: active === null ? null : active > 0,
            lastStartedAt: run?.last_started_at?.toISOString() ?? null,
            lastFinishedAt: run?.last_finished_at?.toISOString() ?? null,
            lastStatus: run?.last_status ?? null,
            lastError: run?.last_error ?? null,
            lastSummary: run?.last_summary ?? null,
            runs: run?.runs ?? 0,
          };
        }),
      );
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      // BullMQ's close waits for Redis, which may be away: every wait here is bounded, and what is left is cut.
      const closing = Promise.all(workers.map((worker) => worker.close().catch(() => undefined)));
      if (!(await within(stopTimeoutMs, Promise.all(inFlight)))) {
        // Its BullMQ job stays active until the lock lapses; then another replica's stalled check runs it again.
        log.warn({ waited_ms: stopTimeoutMs }, 'scheduled jobs: stopping without waiting longer for a run');
      }
      const reachable = connection.status === 'ready';
      if (!reachable || !(await within(CLOSE_GRACE_MS, closing))) {
        // Not awaited to the end: a client cut while ioredis waits to reconnect never says 'end', which it awaits.
        await within(
          reachable ? CLOSE_GRACE_MS : 0,
          Promise.all(workers.map((worker) => worker.disconnect().catch(() => undefined))),
        );
      }
      if (reachable) await within(CLOSE_GRACE_MS, Promise.all([...queues.values()].map((queue) => queue.close())));
      connection.disconnect();
    },
  };
}

/** The tick a BullMQ job stands for: a scheduler's job id ends with the millisecond it was due. */
function tickOf(job: Job): JobTick {
  if (!job.repeatJobKey) return { scheduledAt: new Date(job.timestamp), manual: true };
  const dueAt = Number(job.id?.slice(job.id.lastIndexOf(':') + 1));
  return {
    scheduledAt: new Date(Number.isFinite(dueAt) && dueAt > 0 ? dueAt : job.timestamp + (job.opts.delay ?? 0)),
    manual: false,
  };
}

// ---- job_runs -------------------------------------------------------------------------------------------------

interface JobRunRow {
  name: string;
  last_started_at: Date | null;
  last_finished_at: Date | null;
  last_status: 'ok' | 'failed' | null;
  last_error: string | null;
  last_summary: JobSummary | null;
  runs: number;
}

async function recordStart(pool: pg.Pool, name: string): Promise<void> {
  await pool.query(
    `INSERT INTO job_runs (name, last_started_at) VALUES ($1, now())
     ON CONFLICT (name) DO UPDATE SET last_started_at = now()`,
    [name],
  );
}

async function recordFinish(
  pool: pg.Pool,
  name: string,
  status: 'ok' | 'failed',
  error: string | null,
  summary: JobSummary | null,
): Promise<void> {
  await pool.query(
    `INSERT INTO job_runs (name, last_started_at, last_finished_at, last_status, last_error, last_summary, runs)
     VALUES ($1, now(), now(), $2, $3, $4, 1)
     ON CONFLICT (name) DO UPDATE SET last_finished_at = now(), last_status = EXCLUDED.last_status,
       last_error = EXCLUDED.last_error, last_summary = EXCLUDED.last_summary, runs = job_runs.runs + 1`,
    [name, status, error, summary === null ? null : JSON.stringify(summary)],
  );
}

async function lastRuns(pool: pg.Pool, names: string[]): Promise<Map<string, JobRunRow>> {
  const { rows } = await pool.query<JobRunRow>(
    `SELECT name, last_started_at, last_finished_at, last_status, last_error, last_summary, runs
     FROM job_runs WHERE name = ANY($1)`,
    [names],
  );
  return new Map(rows.map((row) => [row.name, row]));
}
