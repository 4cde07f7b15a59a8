// What operators see of a service's scheduled jobs (`call <service>.jobs`): the schedule from Redis and the last
// run from job_runs (lib/jobs.ts).
import { z } from 'zod';
import { defineAction } from './define';

const Timestamp = z.iso.datetime();

export const JobStatus = z.object({
  name: z.string(),
  /** Interval in milliseconds, or null for a cron job. */
  every: z.number().int().positive().nullable(),
  /** Cron pattern, or null for an interval job. */
  pattern: z.string().nullable(),
  tz: z.string().nullable(),
  /** When the next tick is due; null when Redis is unreachable or holds no schedule yet. */
  nextRunAt: Timestamp.nullable(),
  /** Whether a run is in progress on any replica; null when Redis is unreachable. */
  running: z.boolean().nullable(),
  lastStartedAt: Timestamp.nullable(),
  lastFinishedAt: Timestamp.nullable(),
  lastStatus: z.enum(['ok', 'failed']).nullable(),
  lastError: z.string().nullable(),
  lastSummary: z.record(z.string(), z.unknown()).nullable(),
  runs: z.number().int().min(0),
});
export type JobStatus = z.output<typeof JobStatus>;

/** `<service>.jobs`: every scheduled job the service runs, and how its last run went. */
export const jobsAction = <S extends string>(service: S) =>
  defineAction(`${service}.jobs`, z.object({}), z.array(JobStatus));
