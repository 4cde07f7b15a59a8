-- broadcaster: campaigns, their recipients (chosen once, at start, so a resume never asks the audience again) and
-- the outbox of its audit messages.
CREATE TABLE "broadcasts" (
    "id" BIGSERIAL NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'draft',
    "content" JSONB NOT NULL,
    "audience" JSONB NOT NULL,
    "paid" BOOLEAN NOT NULL DEFAULT false,
    "created_by" BIGINT NOT NULL,
    -- Set once every recipient is chosen; until then the audience is being paged from audience_cursor.
    "total" INTEGER,
    "audience_cursor" BIGINT,
    -- Counters as they were when the campaign ended (running ones are counted from broadcast_recipients).
    "sent" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "blocked" INTEGER NOT NULL DEFAULT 0,
    "ambiguous" INTEGER NOT NULL DEFAULT 0,
    "progress_chat_id" BIGINT,
    "progress_message_id" BIGINT,
    "report_sent" BOOLEAN NOT NULL DEFAULT false,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "broadcasts_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "broadcasts_status_check" CHECK ("status" IN ('draft', 'running', 'paused', 'cancelled', 'finished'))
);
CREATE INDEX "broadcasts_status_idx" ON "broadcasts"("status");

CREATE TABLE "broadcast_recipients" (
    "broadcast_id" BIGINT NOT NULL,
    "user_id" BIGINT NOT NULL,
    "telegram_id" BIGINT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" SMALLINT NOT NULL DEFAULT 0,
    -- The replica whose request may be in flight ('sending'); its heartbeat tells whether it is still alive.
    "claimed_by" TEXT,
    "claimed_at" TIMESTAMPTZ(3),
    "next_attempt_at" TIMESTAMPTZ(3),
    "last_error" TEXT,
    -- A blocked recipient's mark in users (users.markUnreachable) is still to be made.
    "unreachable_pending" BOOLEAN NOT NULL DEFAULT false,
    "done_at" TIMESTAMPTZ(3),
    CONSTRAINT "broadcast_recipients_pkey" PRIMARY KEY ("broadcast_id", "user_id"),
    CONSTRAINT "broadcast_recipients_broadcast_id_fkey" FOREIGN KEY ("broadcast_id") REFERENCES "broadcasts"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
    CONSTRAINT "broadcast_recipients_status_check" CHECK ("status" IN ('pending', 'sending', 'sent', 'failed', 'blocked', 'ambiguous'))
);
-- Claims page a campaign's pending rows by user id; progress counts by status; recovery finds 'sending' rows.
CREATE INDEX "broadcast_recipients_broadcast_id_status_user_id_idx" ON "broadcast_recipients"("broadcast_id", "status", "user_id");

CREATE TABLE "broadcaster_outbox" (
    "id" BIGSERIAL NOT NULL,
    "channel" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "broadcaster_outbox_pkey" PRIMARY KEY ("id")
);
