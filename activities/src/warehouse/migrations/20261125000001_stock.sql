-- The warehouse's own schema. Written to run unchanged on PostgreSQL and SQLite (polyglot
-- persistence): plain types, CHECK constraints, no engine-specific functions.

-- One row per product. `qty` can never go negative: the CHECK is the last line of defence behind
-- the conditional UPDATE in reserveStock. `version` grows with every change so that the
-- customercenter view can tell a stale level from a newer one.
CREATE TABLE stock (
    product_name TEXT PRIMARY KEY,
    qty BIGINT NOT NULL CHECK (qty >= 0),
    version BIGINT NOT NULL
);

-- One row per order that took stock. The primary key is what makes reserveStock idempotent: a
-- retried or duplicated activity finds its row and deducts nothing. `released` makes releaseStock
-- idempotent the same way.
CREATE TABLE reservations (
    order_id TEXT PRIMARY KEY,
    product_name TEXT NOT NULL,
    qty BIGINT NOT NULL,
    released BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- The restock log: every addition, once (keyed by the restock workflow's id).
CREATE TABLE restocks (
    restock_id TEXT PRIMARY KEY,
    product_name TEXT NOT NULL,
    qty BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
);
