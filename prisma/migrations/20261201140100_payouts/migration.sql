-- payout: sends approved withdrawals from the hot wallet exactly once. The wallet row holds the next nonce and the
-- lease of the one replica that may sign for it; every signed transaction is stored before it is broadcast.
CREATE TABLE "payout_wallets" (
    "address" TEXT NOT NULL,
    "next_nonce" BIGINT NOT NULL,
    "lease_holder" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payout_wallets_pkey" PRIMARY KEY ("address")
);

CREATE TABLE "payouts" (
    "withdrawal_id" BIGINT NOT NULL,
    "user_id" BIGINT NOT NULL,
    "destination" TEXT NOT NULL,
    "amount" DECIMAL(78,0) NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'queued',
    "wallet" TEXT,
    "nonce" BIGINT,
    "tx_hash" TEXT,
    "block_number" BIGINT,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payouts_pkey" PRIMARY KEY ("withdrawal_id"),
    CONSTRAINT "payouts_status_known" CHECK ("status" IN ('queued', 'signed', 'sent', 'paid', 'simulated',
      'retrying', 'dead', 'review', 'cancelled'))
);
CREATE INDEX "payouts_status_idx" ON "payouts"("status");
CREATE UNIQUE INDEX "payouts_wallet_nonce_key" ON "payouts"("wallet", "nonce");

CREATE TABLE "payout_attempts" (
    "id" BIGSERIAL NOT NULL,
    "withdrawal_id" BIGINT NOT NULL,
    "wallet" TEXT NOT NULL,
    "nonce" BIGINT NOT NULL,
    "gas_price" DECIMAL(78,0) NOT NULL,
    "raw_tx" TEXT NOT NULL,
    "tx_hash" TEXT NOT NULL,
    "broadcast_block" BIGINT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payout_attempts_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "payout_attempts_tx_hash_key" ON "payout_attempts"("tx_hash");
CREATE INDEX "payout_attempts_withdrawal_id_idx" ON "payout_attempts"("withdrawal_id");
ALTER TABLE "payout_attempts" ADD CONSTRAINT "payout_attempts_withdrawal_id_fkey" FOREIGN KEY ("withdrawal_id")
  REFERENCES "payouts"("withdrawal_id") ON DELETE RESTRICT ON UPDATE NO ACTION;

-- A payout that failed (too little token or gas, a reverted transfer, an RPC that refuses) is tried again with
-- exponential backoff by the payment-retry job; after max_attempts it is dead and waits for an admin.
CREATE TABLE "payment_retries" (
    "id" BIGSERIAL NOT NULL,
    "withdrawal_id" BIGINT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "max_attempts" INTEGER NOT NULL,
    "next_retry_at" TIMESTAMPTZ(3) NOT NULL,
    "last_error" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payment_retries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "payment_retries_status_known" CHECK ("status" IN ('pending', 'completed', 'dead'))
);
CREATE UNIQUE INDEX "payment_retries_withdrawal_id_key" ON "payment_retries"("withdrawal_id");
CREATE INDEX "payment_retries_status_next_retry_at_idx" ON "payment_retries"("status", "next_retry_at");
ALTER TABLE "payment_retries" ADD CONSTRAINT "payment_retries_withdrawal_id_fkey" FOREIGN KEY ("withdrawal_id")
  REFERENCES "payouts"("withdrawal_id") ON DELETE RESTRICT ON UPDATE NO ACTION;

CREATE TABLE "payout_outbox" (
    "id" BIGSERIAL NOT NULL,
    "channel" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "payout_outbox_pkey" PRIMARY KEY ("id")
);
