-- users: when a registered wallet was replaced (withdrawals wait a cooldown after that: account takeover
-- defence), and the financial password that confirms every withdrawal (scrypt hash, lock after failures).
ALTER TABLE "users" ADD COLUMN "wallet_changed_at" TIMESTAMPTZ(3);
ALTER TABLE "users" ADD COLUMN "withdrawal_password_hash" TEXT;
ALTER TABLE "users" ADD COLUMN "password_failures" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "users" ADD COLUMN "password_locked_until" TIMESTAMPTZ(3);

-- ledger: withdrawals, a two-phase transfer each. The hold moves available → held when requested; exactly one
-- resolution (post when paid on chain, void when rejected, cancelled or simulated) moves it out of held.
ALTER TABLE "accounts" DROP CONSTRAINT "accounts_kind_known";
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_kind_known" CHECK ("kind" IN ('user_available', 'user_held',
  'deposits_clearing', 'payouts_clearing', 'referral_expense', 'reward_expense', 'withdrawal_fees'));

CREATE TABLE "withdrawals" (
    "id" BIGSERIAL NOT NULL,
    "user_id" BIGINT NOT NULL,
    "amount" DECIMAL(78,0) NOT NULL,
    "fee" DECIMAL(78,0) NOT NULL DEFAULT 0,
    "destination" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "idempotency_key" TEXT NOT NULL,
    "request_hash" TEXT NOT NULL,
    "decided_by" TEXT,
    "reject_reason" TEXT,
    "tx_hash" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decided_at" TIMESTAMPTZ(3),
    "resolved_at" TIMESTAMPTZ(3),
    CONSTRAINT "withdrawals_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "withdrawals_amount_positive" CHECK ("amount" > 0),
    CONSTRAINT "withdrawals_fee_not_negative" CHECK ("fee" >= 0),
    CONSTRAINT "withdrawals_status_known" CHECK ("status" IN ('pending_approval', 'approved', 'rejected', 'cancelled',
      'paid', 'simulated', 'voided'))
);
CREATE UNIQUE INDEX "withdrawals_user_id_idempotency_key_key" ON "withdrawals"("user_id", "idempotency_key");
CREATE INDEX "withdrawals_user_id_created_at_idx" ON "withdrawals"("user_id", "created_at");
CREATE INDEX "withdrawals_status_created_at_idx" ON "withdrawals"("status", "created_at");

ALTER TABLE "journal_transfers" ADD COLUMN "withdrawal_id" BIGINT;
CREATE INDEX "journal_transfers_withdrawal_id_idx" ON "journal_transfers"("withdrawal_id");
ALTER TABLE "journal_transfers" ADD CONSTRAINT "journal_transfers_withdrawal_id_fkey" FOREIGN KEY ("withdrawal_id")
  REFERENCES "withdrawals"("id") ON DELETE RESTRICT ON UPDATE NO ACTION;

-- The platform's withdrawals of one UTC day, against WITHDRAWAL_DAILY_LIMIT_GLOBAL.
CREATE TABLE "withdrawal_days" (
    "day" DATE NOT NULL,
    "total" DECIMAL(78,0) NOT NULL DEFAULT 0,
    CONSTRAINT "withdrawal_days_pkey" PRIMARY KEY ("day")
);
