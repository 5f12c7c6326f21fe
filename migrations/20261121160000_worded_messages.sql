-- Messages that are not about one order event (a broadcast to technicians, a daily summary) arrive
-- already worded for their reader, and are kept with the delivery and the inbox entry that carry them.

ALTER TABLE deliveries
    ADD COLUMN subject text CHECK (length(subject) BETWEEN 1 AND 200),
    ADD COLUMN body text CHECK (length(body) BETWEEN 1 AND 4000),
    ADD COLUMN link text,
    ADD CONSTRAINT deliveries_worded_whole CHECK ((subject IS NULL) = (body IS NULL)),
    -- An order event, worded at send time, or a message worded already.
    ADD CONSTRAINT deliveries_tell_something CHECK (event_id IS NOT NULL OR body IS NOT NULL);
CREATE INDEX deliveries_pending_source ON deliveries (source) WHERE status = 'pending';

ALTER TABLE notifications
    ALTER COLUMN event_id DROP NOT NULL,
    ADD COLUMN source text,
    ADD COLUMN kind text,
    ADD COLUMN subject text CHECK (length(subject) BETWEEN 1 AND 200),
    ADD COLUMN body text CHECK (length(body) BETWEEN 1 AND 4000),
    ADD COLUMN link text,
    -- Either an order event's entry, or a worded message's, whole.
    ADD CONSTRAINT notifications_event_or_worded
        CHECK ((event_id IS NOT NULL AND source IS NULL)
               OR (event_id IS NULL AND source IS NOT NULL AND kind IS NOT NULL AND subject IS NOT NULL
                   AND body IS NOT NULL)),
    -- A worded message repeated by the queue's at-least-once semantics is stored once.
    ADD CONSTRAINT notifications_source_once UNIQUE (source, user_id);
