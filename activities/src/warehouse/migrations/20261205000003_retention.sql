-- Retention (COFFEESHOP_RETENTION): what is past it is found by age.
CREATE INDEX reservations_by_age ON reservations (created_at);
CREATE INDEX restocks_by_age ON restocks (created_at);
