-- A ticket now moves only by the kitchen's own `moveTicket` activity, scheduled by the order's
-- workflow once it has recorded the barista's command: the board is never ahead of the order, so
-- there is nothing left to hear or to check (20261128000001 is undone).
DROP INDEX IF EXISTS tickets_unheard;
ALTER TABLE tickets DROP COLUMN IF EXISTS unheard_since;
