-- Who can still be messaged, and who was seen lately: the notifier marks a user unreachable when Telegram says the
-- bot was blocked, the account deleted or the chat not found; any later message from the user clears it.
ALTER TABLE "users" ADD COLUMN "last_seen_at" TIMESTAMPTZ(3);
ALTER TABLE "users" ADD COLUMN "unreachable_at" TIMESTAMPTZ(3);
ALTER TABLE "users" ADD COLUMN "unreachable_reason" TEXT;
-- Broadcast audiences page through users by id; "active in N days" filters on last_seen_at.
CREATE INDEX "users_last_seen_at_idx" ON "users"("last_seen_at");
