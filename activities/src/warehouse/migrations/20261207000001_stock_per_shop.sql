-- The chain: stock and prices are kept per (shop, product). Runs unchanged on PostgreSQL and
-- SQLite: SQLite cannot change a primary key, so the stock table is made again with the new key
-- and every existing row copied into it as the stock of `main`, the shop of everything made
-- before the chain had shops. Reservations and restocks remember their shop (existing ones:
-- `main`), so a release puts stock back where it was taken.
CREATE TABLE stock_per_shop (
    shop_id TEXT NOT NULL,
    product_name TEXT NOT NULL,
    qty BIGINT NOT NULL CHECK (qty >= 0),
    version BIGINT NOT NULL,
    price_cents BIGINT,
    PRIMARY KEY (shop_id, product_name)
);
INSERT INTO stock_per_shop (shop_id, product_name, qty, version, price_cents)
    SELECT 'main', product_name, qty, version, price_cents FROM stock;
DROP TABLE stock;
ALTER TABLE stock_per_shop RENAME TO stock;

ALTER TABLE reservations ADD COLUMN shop_id TEXT NOT NULL DEFAULT 'main';
ALTER TABLE restocks ADD COLUMN shop_id TEXT NOT NULL DEFAULT 'main';
