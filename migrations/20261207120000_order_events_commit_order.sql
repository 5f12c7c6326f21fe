-- The live stream no longer needs writers to take turns. The per-organization advisory lock that
-- made event ids commit in order made every action of one organization commit one at a time; now
-- each event records its transaction's id, and a reader takes events in (transaction, id) order only
-- up to the oldest transaction still running (`pg_snapshot_xmin`), so a later commit of an earlier
-- transaction is never skipped. Rows recorded before this migration committed long ago: they take
-- the smallest id and keep their id order.
ALTER TABLE order_events ADD COLUMN xid xid8 NOT NULL DEFAULT '1';
ALTER TABLE order_events ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
DROP TRIGGER order_events_sequence ON order_events;
DROP FUNCTION order_events_sequence();
DROP INDEX order_events_org_stream;
CREATE INDEX order_events_org_stream ON order_events (org_id, xid, id);
