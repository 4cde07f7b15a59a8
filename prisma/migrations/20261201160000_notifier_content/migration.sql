-- notifier: any MessageContent to one user, not only a template; progress per part of a long text, so a crash midway
-- resends no part already sent; failures Telegram makes permanent ('failed', never retried); one admin alert per
-- abandoned notification (alerted_at); stored media, uploaded to Telegram once and sent by file_id after that.
ALTER TABLE "outgoing_messages" ALTER COLUMN "template" DROP NOT NULL;
-- Telegram's message id of every part sent so far, in order.
ALTER TABLE "outgoing_messages" ADD COLUMN "message_ids" JSONB NOT NULL DEFAULT '[]';
-- The part whose request may be on its way (NULL: none); when it is not among message_ids its outcome is unknown.
ALTER TABLE "outgoing_messages" ADD COLUMN "attempted_part" INTEGER;

ALTER TABLE "failed_notifications" ALTER COLUMN "template" DROP NOT NULL;
ALTER TABLE "failed_notifications" ADD COLUMN "content" JSONB;
ALTER TABLE "failed_notifications" ADD COLUMN "ambiguity" TEXT;
ALTER TABLE "failed_notifications" ADD COLUMN "alerted_at" TIMESTAMPTZ(3);
ALTER TABLE "failed_notifications" ADD CONSTRAINT "failed_notifications_template_or_content"
  CHECK (("template" IS NULL) <> ("content" IS NULL));
ALTER TABLE "failed_notifications" DROP CONSTRAINT "failed_notifications_status_known";
ALTER TABLE "failed_notifications" ADD CONSTRAINT "failed_notifications_status_known"
  CHECK ("status" IN ('pending', 'sent', 'abandoned', 'ambiguous', 'failed'));

CREATE TABLE "notifier_media" (
    "id" BIGSERIAL NOT NULL,
    "sha256" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "filename" TEXT NOT NULL,
    "mime_type" TEXT NOT NULL,
    "bytes" BYTEA NOT NULL,
    "file_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uploaded_at" TIMESTAMPTZ(3),
    CONSTRAINT "notifier_media_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "notifier_media_kind_known" CHECK ("kind" IN ('photo', 'video', 'audio', 'voice', 'document')),
    -- STORED_MEDIA_MAX_BYTES (lib/contracts/notifier.ts)
    CONSTRAINT "notifier_media_size" CHECK (octet_length("bytes") BETWEEN 1 AND 700000)
);
CREATE UNIQUE INDEX "notifier_media_sha256_kind_key" ON "notifier_media"("sha256", "kind");
