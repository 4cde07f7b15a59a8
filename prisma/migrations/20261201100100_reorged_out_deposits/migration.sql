-- A confirmed transfer whose block left the canonical chain (a reorg deeper than the confirmations) is kept as
-- 'reorged_out' until the same transaction is mined again; the ledger marks the credited deposit the same way.
-- Nothing is reversed automatically: the user may already have spent the credit.
ALTER TABLE "observed_transfers" DROP CONSTRAINT "observed_transfers_status_known";
ALTER TABLE "observed_transfers" ADD CONSTRAINT "observed_transfers_status_known"
  CHECK ("status" IN ('seen', 'confirmed', 'orphaned', 'duplicate', 'reorged_out'));
ALTER TABLE "observed_transfers" ADD COLUMN "reorged_at" TIMESTAMPTZ(3);
-- Grows with each change of a transfer's state and travels with each announcement, so the ledger applies a late,
-- older fact (a redelivered "confirmed" after a "reorged out") as what it is: old.
ALTER TABLE "observed_transfers" ADD COLUMN "revision" INTEGER NOT NULL DEFAULT 1;

ALTER TABLE "deposits" ADD COLUMN "reorged_at" TIMESTAMPTZ(3);
ALTER TABLE "deposits" ADD COLUMN "chain_revision" INTEGER NOT NULL DEFAULT 0;
