-- The Shop dashboard's stock chart: every level a product had, stamped when the view learned of
-- it (RFC 3339 UTC with milliseconds, as `restocks`). Written by a trigger whenever a product's
-- level changes, read a product at a time from the last hour (and the level just before it)
-- through the index; old rows go with the view's retention.
CREATE TABLE stock_history (
    id BIGSERIAL PRIMARY KEY,
    product_name TEXT NOT NULL,
    at TEXT NOT NULL,
    qty BIGINT NOT NULL
);
CREATE INDEX stock_history_by_product ON stock_history (product_name, at);
CREATE INDEX stock_history_by_age ON stock_history (at);

CREATE FUNCTION record_stock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO stock_history (product_name, at, qty)
    VALUES (NEW.product_name, to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), NEW.qty);
    RETURN NULL;
END;
$$;

CREATE TRIGGER stock_level_recorded AFTER INSERT ON stock
    FOR EACH ROW EXECUTE FUNCTION record_stock();
CREATE TRIGGER stock_level_changed AFTER UPDATE ON stock
    FOR EACH ROW WHEN (OLD.qty IS DISTINCT FROM NEW.qty) EXECUTE FUNCTION record_stock();
