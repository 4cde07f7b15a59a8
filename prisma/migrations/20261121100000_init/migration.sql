-- bot-gateway
CREATE TABLE "users" (
    "id" BIGSERIAL NOT NULL,
    "telegram_id" BIGINT NOT NULL,
    "username" TEXT,
    "first_name" TEXT,
    "language_code" TEXT,
    "wallet_address" TEXT,
    "referral_code" TEXT NOT NULL,
    "referrer_id" BIGINT,
    "is_banned" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "users_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "users_not_own_referrer" CHECK ("referrer_id" IS NULL OR "referrer_id" <> "id")
);
CREATE UNIQUE INDEX "users_telegram_id_key" ON "users"("telegram_id");
CREATE UNIQUE INDEX "users_wallet_address_key" ON "users"("wallet_address");
CREATE UNIQUE INDEX "users_referral_code_key" ON "users"("referral_code");
CREATE INDEX "users_referrer_id_idx" ON "users"("referrer_id");

CREATE TABLE "referrals" (
    "user_id" BIGINT NOT NULL,
    "level" SMALLINT NOT NULL,
    "ancestor_id" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "referrals_pkey" PRIMARY KEY ("user_id","level"),
    CONSTRAINT "referrals_level_range" CHECK ("level" BETWEEN 1 AND 3),
    CONSTRAINT "referrals_not_self" CHECK ("user_id" <> "ancestor_id")
);
CREATE INDEX "referrals_ancestor_id_level_idx" ON "referrals"("ancestor_id", "level");

ALTER TABLE "users" ADD CONSTRAINT "users_referrer_id_fkey" FOREIGN KEY ("referrer_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE NO ACTION;
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION;
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_ancestor_id_fkey" FOREIGN KEY ("ancestor_id") REFERENCES "users"("id") ON DELETE RESTRICT ON UPDATE NO ACTION;

-- ledger
CREATE TABLE "accounts" (
    "id" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "user_id" BIGINT,
    "balance" DECIMAL(78,0) NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "accounts_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "accounts_kind_known" CHECK ("kind" IN ('user_available', 'user_held', 'deposits_clearing', 'payouts_clearing', 'referral_expense', 'reward_expense')),
    CONSTRAINT "accounts_user_accounts_have_owner" CHECK (("kind" LIKE 'user\_%') = ("user_id" IS NOT NULL)),
    -- No user balance below zero, whatever the code does.
    CONSTRAINT "accounts_user_balance_not_negative" CHECK ("user_id" IS NULL OR "balance" >= 0),
    -- System accounts are hot rows: their balance is derived from entries, never written.
    CONSTRAINT "accounts_system_balance_unused" CHECK ("user_id" IS NOT NULL OR "balance" = 0)
);
CREATE UNIQUE INDEX "accounts_kind_user_id_key" ON "accounts"("kind", "user_id");
CREATE UNIQUE INDEX "accounts_system_kind_key" ON "accounts"("kind") WHERE "user_id" IS NULL;

CREATE TABLE "journal_transfers" (
    "id" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "deposit_id" BIGINT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "journal_transfers_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "journal_transfers_reference_key" ON "journal_transfers"("reference");
CREATE INDEX "journal_transfers_deposit_id_idx" ON "journal_transfers"("deposit_id");

CREATE TABLE "journal_entries" (
    "id" BIGSERIAL NOT NULL,
    "transfer_id" BIGINT NOT NULL,
    "account_id" BIGINT NOT NULL,
    "amount" DECIMAL(78,0) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "journal_entries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "journal_entries_amount_not_zero" CHECK ("amount" <> 0)
);
CREATE INDEX "journal_entries_transfer_id_idx" ON "journal_entries"("transfer_id");
CREATE INDEX "journal_entries_account_id_idx" ON "journal_entries"("account_id");

CREATE TABLE "deposits" (
    "id" BIGSERIAL NOT NULL,
    "chain_id" INTEGER NOT NULL,
    "tx_hash" TEXT NOT NULL,
    "log_index" INTEGER NOT NULL,
    "user_id" BIGINT NOT NULL,
    "from_address" TEXT NOT NULL,
    "amount" DECIMAL(78,0) NOT NULL,
    "level" SMALLINT NOT NULL,
    "block_number" BIGINT NOT NULL,
    "block_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "deposits_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "deposits_amount_positive" CHECK ("amount" > 0),
    CONSTRAINT "deposits_level_range" CHECK ("level" BETWEEN 0 AND 6)
);
CREATE UNIQUE INDEX "deposits_chain_id_tx_hash_log_index_key" ON "deposits"("chain_id", "tx_hash", "log_index");
CREATE INDEX "deposits_user_id_idx" ON "deposits"("user_id");

CREATE TABLE "referral_commissions" (
    "deposit_id" BIGINT NOT NULL,
    "level" SMALLINT NOT NULL,
    "beneficiary_id" BIGINT NOT NULL,
    "amount" DECIMAL(78,0) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "referral_commissions_pkey" PRIMARY KEY ("deposit_id","level"),
    CONSTRAINT "referral_commissions_level_range" CHECK ("level" BETWEEN 1 AND 3)
);
CREATE INDEX "referral_commissions_beneficiary_id_level_idx" ON "referral_commissions"("beneficiary_id", "level");

CREATE TABLE "ledger_outbox" (
    "id" BIGSERIAL NOT NULL,
    "channel" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "ledger_outbox_pkey" PRIMARY KEY ("id")
);

ALTER TABLE "journal_transfers" ADD CONSTRAINT "journal_transfers_deposit_id_fkey" FOREIGN KEY ("deposit_id") REFERENCES "deposits"("id") ON DELETE RESTRICT ON UPDATE NO ACTION;
ALTER TABLE "journal_entries" ADD CONSTRAINT "journal_entries_transfer_id_fkey" FOREIGN KEY ("transfer_id") REFERENCES "journal_transfers"("id") ON DELETE RESTRICT ON UPDATE NO ACTION;
ALTER TABLE "journal_entries" ADD CONSTRAINT "journal_entries_account_id_fkey" FOREIGN KEY ("account_id") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE NO ACTION;
ALTER TABLE "referral_commissions" ADD CONSTRAINT "referral_commissions_deposit_id_fkey" FOREIGN KEY ("deposit_id") REFERENCES "deposits"("id") ON DELETE RESTRICT ON UPDATE NO ACTION;

-- Entries are immutable: corrections are new transfers.
CREATE FUNCTION "journal_entries_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is immutable (% refused)', TG_TABLE_NAME, TG_OP USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER "journal_entries_no_update" BEFORE UPDATE OR DELETE ON "journal_entries"
  FOR EACH ROW EXECUTE FUNCTION "journal_entries_immutable"();
CREATE TRIGGER "journal_transfers_no_update" BEFORE UPDATE OR DELETE ON "journal_transfers"
  FOR EACH ROW EXECUTE FUNCTION "journal_entries_immutable"();

-- Entries join only a transfer created in the same transaction, so a committed transfer stays balanced.
CREATE FUNCTION "journal_entries_same_transaction"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM "journal_transfers" t WHERE t."id" IN (SELECT DISTINCT "transfer_id" FROM new_entries)
      AND t.xmin::text::bigint <> (pg_current_xact_id()::text::bigint % 4294967296)
  ) THEN
    RAISE EXCEPTION 'entries can only be added to a transfer created in the same transaction' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER "journal_entries_join_new_transfers" AFTER INSERT ON "journal_entries"
  REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION "journal_entries_same_transaction"();

-- Every transfer balances to zero and has at least two legs, checked once per transfer at commit.
CREATE FUNCTION "journal_transfer_balanced"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  total NUMERIC;
  legs INTEGER;
BEGIN
  SELECT COALESCE(SUM("amount"), 0), COUNT(*) INTO total, legs FROM "journal_entries" WHERE "transfer_id" = NEW."id";
  IF total <> 0 OR legs < 2 THEN
    RAISE EXCEPTION 'journal transfer % is unbalanced (sum %, % entries)', NEW."id", total, legs USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER "journal_transfers_balanced" AFTER INSERT ON "journal_transfers"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "journal_transfer_balanced"();

-- chain-monitor
CREATE TABLE "chain_checkpoints" (
    "chain_id" INTEGER NOT NULL,
    "block_number" BIGINT NOT NULL,
    "block_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "chain_checkpoints_pkey" PRIMARY KEY ("chain_id","block_number")
);

CREATE TABLE "observed_transfers" (
    "chain_id" INTEGER NOT NULL,
    "tx_hash" TEXT NOT NULL,
    "log_index" INTEGER NOT NULL,
    "block_number" BIGINT NOT NULL,
    "block_hash" TEXT NOT NULL,
    "from_address" TEXT NOT NULL,
    "to_address" TEXT NOT NULL,
    "amount" DECIMAL(78,0) NOT NULL,
    "user_id" BIGINT,
    "status" TEXT NOT NULL DEFAULT 'seen',
    "seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "confirmed_at" TIMESTAMPTZ(3),
    CONSTRAINT "observed_transfers_pkey" PRIMARY KEY ("chain_id","tx_hash","log_index"),
    CONSTRAINT "observed_transfers_status_known" CHECK ("status" IN ('seen', 'confirmed', 'orphaned'))
);
CREATE INDEX "observed_transfers_status_block_number_idx" ON "observed_transfers"("status", "block_number");
CREATE INDEX "observed_transfers_from_address_idx" ON "observed_transfers"("from_address");

CREATE TABLE "chain_outbox" (
    "id" BIGSERIAL NOT NULL,
    "channel" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "chain_outbox_pkey" PRIMARY KEY ("id")
);

-- notifier
CREATE TABLE "outgoing_messages" (
    "notification_id" TEXT NOT NULL,
    "user_id" BIGINT NOT NULL,
    "chat_id" BIGINT NOT NULL,
    "template" TEXT NOT NULL,
    "message_id" BIGINT,
    "sent_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "outgoing_messages_pkey" PRIMARY KEY ("notification_id")
);
CREATE INDEX "outgoing_messages_user_id_idx" ON "outgoing_messages"("user_id");

CREATE TABLE "failed_notifications" (
    "id" BIGSERIAL NOT NULL,
    "notification_id" TEXT NOT NULL,
    "user_id" BIGINT NOT NULL,
    "template" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "error" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 1,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "next_retry_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "failed_notifications_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "failed_notifications_status_known" CHECK ("status" IN ('pending', 'sent', 'abandoned'))
);
CREATE UNIQUE INDEX "failed_notifications_notification_id_key" ON "failed_notifications"("notification_id");
CREATE INDEX "failed_notifications_status_next_retry_at_idx" ON "failed_notifications"("status", "next_retry_at");
