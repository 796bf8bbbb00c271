-- Prices: a product's price per unit in cents (NULL until the manager sets one), and what an
-- order costs (its unit price as the warehouse reserved it, times its quantity).
ALTER TABLE stock ADD COLUMN price_cents BIGINT;
ALTER TABLE orders ADD COLUMN total_cents BIGINT;

-- A stock announcement carries the price too (cents; null while there is none).
CREATE OR REPLACE FUNCTION announce_stock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('coffeeshop_stock',
        json_build_object('productName', NEW.product_name, 'qty', NEW.qty, 'priceCents', NEW.price_cents)::text);
    RETURN NULL;
END;
$$;
