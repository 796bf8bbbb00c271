-- The chain's shops, and the owner over all of them. A fresh install has one shop, `main`; every
-- staff account made before shops existed belongs to it, and the first manager, `admin`, becomes
-- the chain's owner (the manager of every shop).

CREATE TABLE shops (
    shop_id TEXT PRIMARY KEY CHECK (shop_id ~ '^[a-z0-9-]{1,32}$'),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    created_at BIGINT NOT NULL
);

INSERT INTO shops (shop_id, name, created_at) VALUES ('main', 'Main', extract(epoch FROM now())::BIGINT);

ALTER TABLE accounts DROP CONSTRAINT accounts_role_check;
ALTER TABLE accounts ADD CONSTRAINT accounts_role_check
    CHECK (role IN ('customer', 'barista', 'manager', 'owner'));

-- A barista or a manager works at one shop; a customer and the owner belong to the whole chain.
ALTER TABLE accounts ADD COLUMN shop_id TEXT REFERENCES shops (shop_id);
UPDATE accounts SET role = 'owner' WHERE name = 'admin' AND role = 'manager';
UPDATE accounts SET shop_id = 'main' WHERE role IN ('barista', 'manager');
ALTER TABLE accounts ADD CONSTRAINT staff_work_at_one_shop
    CHECK ((role IN ('barista', 'manager')) = (shop_id IS NOT NULL));

CREATE INDEX accounts_staff_by_shop ON accounts (shop_id, name) WHERE shop_id IS NOT NULL;
