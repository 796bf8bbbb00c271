-- The trace of the order a ticket is for (its W3C `traceparent`), when traces are on: the
-- automatic barista that takes the ticket continues that trace, so the order's brewing and
-- completion appear in the order's one trace.
ALTER TABLE tickets ADD COLUMN trace_parent TEXT;
