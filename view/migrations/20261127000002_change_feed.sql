-- The change feed the web page's live updates come from: every change to an order or a stock
-- level is announced with NOTIFY when its transaction commits. The API LISTENs on one connection
-- and fans the changes out to every open event stream, so an open page costs no query of its own.
-- A projection that changes nothing (a repeat) announces nothing.

CREATE FUNCTION announce_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('coffeeshop_orders', NEW.order_id);
    RETURN NULL;
END;
$$;

CREATE TRIGGER order_inserted AFTER INSERT ON orders
    FOR EACH ROW EXECUTE FUNCTION announce_order();
CREATE TRIGGER order_changed AFTER UPDATE ON orders
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION announce_order();

CREATE FUNCTION announce_stock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('coffeeshop_stock', json_build_object('productName', NEW.product_name, 'qty', NEW.qty)::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER stock_inserted AFTER INSERT ON stock
    FOR EACH ROW EXECUTE FUNCTION announce_stock();
CREATE TRIGGER stock_changed AFTER UPDATE ON stock
    FOR EACH ROW WHEN (OLD IS DISTINCT FROM NEW) EXECUTE FUNCTION announce_stock();

-- The board's "recently finished" columns: newest first, without sorting every finished order.
CREATE INDEX orders_recently_finished ON orders (status, updated_at DESC);
