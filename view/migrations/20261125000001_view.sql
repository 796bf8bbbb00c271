-- The customercenter read model (CQRS): what the API's queries read. Written only by the
-- projection activities, always guarded by a sequence number or version, so replays and stale
-- projections change nothing.

-- One row per order, its latest known state. `seq` is the length of the order's history when
-- projected; an update applies only if it is newer.
CREATE TABLE orders (
    order_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    product_name TEXT NOT NULL,
    qty INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    seq INTEGER NOT NULL,
    -- RFC 3339 UTC with milliseconds, from the workflow's clock: fixed width, so text order is
    -- time order.
    placed_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- MyPages: a customer's orders newest first, paged by (placed_at, order_id). The index matches the
-- query's WHERE and ORDER BY exactly, so a page is an index range scan whatever the table's size
-- (1M orders included), never a sort of all a customer's orders.
CREATE INDEX orders_by_customer ON orders (customer_id, placed_at DESC, order_id DESC);

-- The kitchen board: the few orders in Queued or Brewing, oldest first. Partial, so it stays as
-- small as the board however many finished orders pile up.
CREATE INDEX orders_on_board ON orders (status, placed_at) WHERE status IN ('Queued', 'Brewing');

-- Every step of every order. Keyed by (order_id, seq): a step lands once, whatever order the
-- projections arrive in, and reads come back in sequence order from the primary key.
CREATE TABLE order_history (
    order_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (order_id, seq)
);

-- Stock levels as last reported by the warehouse; `version` orders them.
CREATE TABLE stock (
    product_name TEXT PRIMARY KEY,
    qty BIGINT NOT NULL,
    version BIGINT NOT NULL
);
