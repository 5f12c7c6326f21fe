-- The outbox: every order event is queued here in the transaction that records it, so nothing that
-- must be announced is lost when the process or Redis fails. The relay moves rows into the job queue
-- and deletes them; a row that is still here has not reached the queue yet.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations (id),
    event_id    bigint NOT NULL UNIQUE REFERENCES order_events (id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The in-app channel: one row per (event, recipient), so a delivery repeated by the queue's
-- at-least-once semantics is stored once.
CREATE TABLE notifications (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL,
    user_id     uuid NOT NULL,
    event_id    bigint NOT NULL REFERENCES order_events (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    UNIQUE (event_id, user_id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX notifications_inbox ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
