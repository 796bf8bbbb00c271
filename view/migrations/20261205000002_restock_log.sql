-- The restock log, the business's own record (it was listed from Temporal's visibility store,
-- a scan that grew with every order ever placed). One row per restock, stamped when the view
-- learned of it; read newest first, a page at a time, from the index.
CREATE TABLE restocks (
    restock_id TEXT PRIMARY KEY,
    product_name TEXT NOT NULL,
    qty BIGINT NOT NULL,
    price_cents BIGINT,
    -- RFC 3339 UTC with milliseconds, fixed width: text order is time order.
    recorded_at TEXT NOT NULL
);
CREATE INDEX restocks_newest_first ON restocks (recorded_at DESC, restock_id DESC);
