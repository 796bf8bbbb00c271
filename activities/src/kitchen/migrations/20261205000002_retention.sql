-- Retention (COFFEESHOP_RETENTION): tickets that ended, by when they did.
CREATE INDEX tickets_ended ON tickets (updated_at) WHERE status IN ('Completed', 'Canceled');
