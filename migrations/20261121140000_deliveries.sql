-- Delivery through channels beyond the in-app inbox (Telegram, email, webhooks), with PostgreSQL as
-- the record of what is owed and Redis only as the transport: Redis may lose its jobs (it keeps
-- nothing on disk), so whatever was handed to it and not finished is handed over again.

-- An outbox row now stays until its announce job is done; `relayed_at` says when it last went to
-- the queue, and a row relayed long ago without being done is relayed again.
ALTER TABLE outbox ADD COLUMN relayed_at timestamptz;
CREATE INDEX outbox_relay ON outbox (relayed_at NULLS FIRST, id);

-- One message to one recipient on one channel. `source` names what it tells (`event:42`), and
-- (source, channel, recipient) is the idempotency key: a job that runs twice finds its row.
CREATE TABLE deliveries (
    id               uuid PRIMARY KEY,
    org_id           uuid NOT NULL REFERENCES organizations (id),
    source           text NOT NULL,
    event_id         bigint REFERENCES order_events (id),
    kind             text NOT NULL,
    channel          text NOT NULL CHECK (channel IN ('telegram', 'email', 'webhook')),
    -- Exactly one of the three addresses: a user, a customer's email, or a webhook endpoint.
    user_id          uuid,
    email            text CHECK (email = lower(email)),
    webhook_id       uuid,
    recipient        text NOT NULL,
    locale           text NOT NULL DEFAULT 'en',
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'dead', 'skipped')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    -- `skipped`: the recipient turned this kind off before it went.
    -- When the next attempt is due (later during the recipient's quiet hours or after a failure).
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- A worker holds the delivery while it sends; a crashed worker's hold runs out.
    leased_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    UNIQUE (source, channel, recipient),
    CHECK (num_nonnulls(user_id, email, webhook_id) = 1),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);
CREATE INDEX deliveries_log ON deliveries (org_id, id);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';

-- A person's choices per event kind and channel; no row means the channel's default.
CREATE TABLE notification_preferences (
    user_id  uuid NOT NULL,
    org_id   uuid NOT NULL,
    kind     text NOT NULL,
    channel  text NOT NULL CHECK (channel IN ('in_app', 'telegram', 'email')),
    enabled  boolean NOT NULL,
    PRIMARY KEY (user_id, kind, channel),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);

-- Quiet hours in the person's own time zone; messages (not the in-app inbox) wait until they end.
ALTER TABLE users
    ADD COLUMN quiet_hours_start time,
    ADD COLUMN quiet_hours_end time,
    ADD CONSTRAINT users_quiet_hours_both CHECK ((quiet_hours_start IS NULL) = (quiet_hours_end IS NULL));

-- Customers have no account: their one-click unsubscribes are kept per address and event kind.
CREATE TABLE email_unsubscribes (
    org_id      uuid NOT NULL REFERENCES organizations (id),
    email       text NOT NULL CHECK (email = lower(email)),
    kind        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, email, kind)
);

-- An organization's own wording of a message; without one, the shipped template files apply.
CREATE TABLE notification_templates (
    org_id      uuid NOT NULL REFERENCES organizations (id),
    kind        text NOT NULL,
    locale      text NOT NULL,
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 4000),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, kind, locale)
);
