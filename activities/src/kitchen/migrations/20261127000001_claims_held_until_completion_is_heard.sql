-- The ticket's move to Completed is handed to the kitchen inside the workflow task that accepts
-- the barista's completion, before that task is recorded: if the task is lost with the Temporal
-- server, the ticket reads Completed for an order still Brewing. An automatic barista therefore
-- keeps its claim on a ticket it completed until the order has taken the completion, and clears
-- it then. A Completed ticket still claimed when its lease runs out belongs to a barista that died
-- before that answer: a live barista takes it over and sends the completion again.
-- Tickets completed before this change were never cleared: clear them now.
UPDATE tickets SET claimed_by = NULL WHERE status = 'Completed' AND claimed_by IS NOT NULL;
DROP INDEX tickets_claimable;
CREATE INDEX tickets_claimable ON tickets (created_at)
    WHERE status IN ('Queued', 'Brewing') OR (status = 'Completed' AND claimed_by IS NOT NULL);
