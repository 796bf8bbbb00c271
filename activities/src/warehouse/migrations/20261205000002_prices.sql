-- Prices (runs unchanged on PostgreSQL and SQLite). A product's price per unit in cents, set by a
-- restock that names one (NULL until then); a reservation keeps the price it was taken at, so a
-- repeated reserveStock answers the same price even after the product's price changed.
ALTER TABLE stock ADD COLUMN price_cents BIGINT;
ALTER TABLE reservations ADD COLUMN price_cents BIGINT;
