-- The live event stream: clients read `order_events` by id, so within an organization ids must
-- become visible in id order. Ids are taken under a per-organization transaction lock held until
-- commit: a reader that saw id N never later finds a committed id below N in the same organization.
CREATE FUNCTION order_events_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('order_events:' || NEW.org_id::text, 0));
    NEW.id := nextval(pg_get_serial_sequence('order_events', 'id'));
    RETURN NEW;
END
$$;
CREATE TRIGGER order_events_sequence BEFORE INSERT ON order_events
    FOR EACH ROW EXECUTE FUNCTION order_events_sequence();

-- Wakes every server process's listener, once per statement and organization (a bulk insert of
-- thousands of events sends one notification, not thousands); the payload names only the
-- organization and the newest id, the events themselves are read from the table with the reader's scope.
CREATE FUNCTION order_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    newest record;
BEGIN
    FOR newest IN SELECT org_id, max(id) AS id FROM inserted GROUP BY org_id LOOP
        PERFORM pg_notify('order_events', newest.org_id::text || ':' || newest.id::text);
    END LOOP;
    RETURN NULL;
END
$$;
CREATE TRIGGER order_events_notify AFTER INSERT ON order_events
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION order_events_notify();
