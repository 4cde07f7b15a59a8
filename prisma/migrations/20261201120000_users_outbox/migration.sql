-- users announces ban changes through its own outbox (bot-gateway keeps its Redis mirror of the flag from them).
CREATE TABLE "users_outbox" (
    "id" BIGSERIAL NOT NULL,
    "channel" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "users_outbox_pkey" PRIMARY KEY ("id")
);

-- Every change of the ban flag gets the next version, so a mirror of it applies only newer changes.
ALTER TABLE "users" ADD COLUMN "ban_version" INTEGER NOT NULL DEFAULT 0;
