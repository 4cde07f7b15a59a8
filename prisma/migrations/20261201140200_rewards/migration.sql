-- ledger: deposit rewards, accrued per deposit and hour exactly once (the primary key), whatever replicas and
-- restarts do; a missed hour is accrued late.
CREATE TABLE "reward_accruals" (
    "deposit_id" BIGINT NOT NULL,
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "user_id" BIGINT NOT NULL,
    "amount" DECIMAL(78,0) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "reward_accruals_pkey" PRIMARY KEY ("deposit_id", "period_start"),
    CONSTRAINT "reward_accruals_amount_positive" CHECK ("amount" > 0)
);
CREATE INDEX "reward_accruals_user_id_period_start_idx" ON "reward_accruals"("user_id", "period_start");
ALTER TABLE "reward_accruals" ADD CONSTRAINT "reward_accruals_deposit_id_fkey" FOREIGN KEY ("deposit_id")
  REFERENCES "deposits"("id") ON DELETE RESTRICT ON UPDATE NO ACTION;

-- Each hour is accrued for every deposit in one run; this row says which hours are done.
CREATE TABLE "reward_periods" (
    "period_start" TIMESTAMPTZ(3) NOT NULL,
    "deposits" INTEGER NOT NULL,
    "total" DECIMAL(78,0) NOT NULL,
    "accrued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "reward_periods_pkey" PRIMARY KEY ("period_start")
);

-- What each deposit has earned so far, kept with it so the cap (DEPOSIT_REWARD_CAP_PERCENT) is one comparison.
ALTER TABLE "deposits" ADD COLUMN "rewards_accrued" DECIMAL(78,0) NOT NULL DEFAULT 0;
