-- The chain: every order, stock level, restock and recorded level belongs to a shop. What was
-- projected before the chain had shops is main's (the column's default fills every existing row).

ALTER TABLE orders ADD COLUMN shop_id TEXT NOT NULL DEFAULT 'main';
ALTER TABLE stock ADD COLUMN shop_id TEXT NOT NULL DEFAULT 'main';
ALTER TABLE stock DROP CONSTRAINT stock_pkey, ADD PRIMARY KEY (shop_id, product_name);
ALTER TABLE restocks ADD COLUMN shop_id TEXT NOT NULL DEFAULT 'main';
ALTER TABLE stock_history ADD COLUMN shop_id TEXT NOT NULL DEFAULT 'main';

-- A shop's reads are ranges of indexes that begin with the shop: its board (Queued, Brewing), its
-- recently finished orders (the dashboard's and the chain's last hour), its restock log, its stock
-- chart. Retention keeps finding finished orders by (status, updated_at) across shops.
DROP INDEX orders_on_board;
CREATE INDEX orders_on_board ON orders (shop_id, status, placed_at) WHERE status IN ('Queued', 'Brewing');
CREATE INDEX orders_recently_finished_at_shop ON orders (shop_id, status, updated_at DESC);
DROP INDEX restocks_newest_first;
CREATE INDEX restocks_newest_first ON restocks (shop_id, recorded_at DESC, restock_id DESC);
DROP INDEX stock_history_by_product;
CREATE INDEX stock_history_by_product ON stock_history (shop_id, product_name, at);

-- Announcements and recorded levels carry the shop.
CREATE OR REPLACE FUNCTION announce_stock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('coffeeshop_stock',
        json_build_object('shopId', NEW.shop_id, 'productName', NEW.product_name, 'qty', NEW.qty,
                          'priceCents', NEW.price_cents)::text);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION record_stock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stock_history (shop_id, product_name, at, qty)
    VALUES (NEW.shop_id, NEW.product_name,
            to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), NEW.qty);
    RETURN NULL;
END;
$$;
