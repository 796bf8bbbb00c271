-- A ticket Completed by an automatic barista that died before the order took the completion was
-- taken over by another barista (20261127000001). The check of unheard moves (20261128000001)
-- covers that case as it covers a person's: the barista's claim has run out, so the kitchen asks
-- the order and sends the completion again. Baristas claim Queued and Brewing tickets only, as
-- before 20261127000001.
DROP INDEX tickets_claimable;
CREATE INDEX tickets_claimable ON tickets (created_at) WHERE status IN ('Queued', 'Brewing');
