-- Claims by automatic baristas become leases: a claim holds only until `lease_until`, and the
-- barista renews it while it brews. A barista that dies (SIGKILL, OOM, a lost node) stops
-- renewing, so its ticket, Queued or already Brewing, is taken over by a live barista once the
-- lease has run out. A refused start also sets `lease_until` (with no owner) so that a ticket the
-- workflow will not start right now is looked at again a little later, not in a tight loop.
ALTER TABLE tickets ADD COLUMN lease_until TIMESTAMPTZ;

-- A compensation may reach the kitchen before the ticket it withdraws (the ticket's own activity
-- is late): it then leaves a Canceled ticket with no product behind, so the late ticket finds it
-- and never reaches the board.
ALTER TABLE tickets ALTER COLUMN product_name DROP NOT NULL;
ALTER TABLE tickets ALTER COLUMN qty DROP NOT NULL;

-- Automatic baristas pick the oldest ticket they may take: Queued and not leased, or Brewing under
-- an automatic barista whose lease ran out.
DROP INDEX tickets_queued;
CREATE INDEX tickets_claimable ON tickets (created_at) WHERE status IN ('Queued', 'Brewing');
