-- A transfer whose transaction was already confirmed under another log index (the same transaction re-mined
-- by a reorg deeper than the confirmation depth) is kept as 'duplicate' for admins and never credited again.
ALTER TABLE "observed_transfers" DROP CONSTRAINT "observed_transfers_status_known";
ALTER TABLE "observed_transfers" ADD CONSTRAINT "observed_transfers_status_known"
  CHECK ("status" IN ('seen', 'confirmed', 'orphaned', 'duplicate'));
