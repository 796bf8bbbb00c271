-- The kitchen board: one ticket per order that reached production.
CREATE TABLE tickets (
    order_id TEXT PRIMARY KEY,
    product_name TEXT NOT NULL,
    qty INTEGER NOT NULL,
    -- Queued, Brewing, Completed or Canceled.
    status TEXT NOT NULL,
    -- Which automatic barista took the ticket, so two never brew the same order.
    claimed_by TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Automatic baristas pick the oldest unclaimed Queued ticket.
CREATE INDEX tickets_queued ON tickets (created_at) WHERE status = 'Queued' AND claimed_by IS NULL;
