-- Projections are ordered by the length of the workflow's history when they were made
-- (`at_event`), then by `seq`: a projection handed over from a workflow task that was then lost
-- is replaced by whatever the workflow decides afterwards, even at a lower `seq`. Rows projected
-- before this column existed start at 0, so any new projection orders after them by `seq` alone.
ALTER TABLE orders ADD COLUMN at_event BIGINT NOT NULL DEFAULT 0;
