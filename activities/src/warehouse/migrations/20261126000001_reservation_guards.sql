-- Guards against late and duplicated attempts (runs unchanged on PostgreSQL and SQLite).

-- Which order a reservation belongs to beyond its id: the first run id of the order's workflow
-- (kept across resets and continue-as-new, new for a workflow started again with a used id). A
-- reservation is never counted for a different order that reuses the id.
ALTER TABLE reservations ADD COLUMN order_run TEXT;

-- A refused reservation (OutOfStock, UnknownProduct) is kept as a row that took nothing, so an
-- earlier attempt that wakes up late finds it and cannot take stock for a rejected order.
ALTER TABLE reservations ADD COLUMN refused TEXT;
