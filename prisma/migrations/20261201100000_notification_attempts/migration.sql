-- notifier: an attempt is recorded before the send, so a crash between the send and its record leaves a
-- visible 'sending' row (an outcome nobody knows) instead of nothing. Admin alerts go to chats that need not
-- belong to a registered user.
ALTER TABLE "outgoing_messages" ADD COLUMN "status" TEXT NOT NULL DEFAULT 'sent';
ALTER TABLE "outgoing_messages" ALTER COLUMN "status" SET DEFAULT 'sending';
ALTER TABLE "outgoing_messages" ADD CONSTRAINT "outgoing_messages_status_known"
  CHECK ("status" IN ('sending', 'sent', 'ambiguous'));
ALTER TABLE "outgoing_messages" ADD COLUMN "attempts" INTEGER NOT NULL DEFAULT 1;
ALTER TABLE "outgoing_messages" ADD COLUMN "attempted_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE "outgoing_messages" ALTER COLUMN "sent_at" DROP NOT NULL;
ALTER TABLE "outgoing_messages" ALTER COLUMN "sent_at" DROP DEFAULT;
ALTER TABLE "outgoing_messages" ALTER COLUMN "user_id" DROP NOT NULL;

ALTER TABLE "failed_notifications" ALTER COLUMN "user_id" DROP NOT NULL;
ALTER TABLE "failed_notifications" ADD COLUMN "chat_id" BIGINT;
ALTER TABLE "failed_notifications" ADD CONSTRAINT "failed_notifications_recipient"
  CHECK ("user_id" IS NOT NULL OR "chat_id" IS NOT NULL);
ALTER TABLE "failed_notifications" DROP CONSTRAINT "failed_notifications_status_known";
ALTER TABLE "failed_notifications" ADD CONSTRAINT "failed_notifications_status_known"
  CHECK ("status" IN ('pending', 'sent', 'abandoned', 'ambiguous'));
