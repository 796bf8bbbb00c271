-- The chain: a ticket belongs to its shop's board. Tickets made before the chain had shops are
-- main's.
ALTER TABLE tickets ADD COLUMN shop_id TEXT NOT NULL DEFAULT 'main';
