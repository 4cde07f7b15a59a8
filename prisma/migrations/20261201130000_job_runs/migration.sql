-- The last run of each scheduled job, one row per job name (lib/jobs.ts writes it for every service's jobs; the
-- schedules themselves live in Redis, as BullMQ job schedulers).
CREATE TABLE "job_runs" (
    "name" TEXT NOT NULL,
    "last_started_at" TIMESTAMPTZ(3),
    "last_finished_at" TIMESTAMPTZ(3),
    "last_status" TEXT,
    "last_error" TEXT,
    "last_summary" JSONB,
    "runs" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "job_runs_pkey" PRIMARY KEY ("name"),
    CONSTRAINT "job_runs_status_known" CHECK ("last_status" IN ('ok', 'failed'))
);
