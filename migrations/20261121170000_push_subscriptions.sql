-- Web push: the browsers a person subscribed (the PushSubscription a service worker obtained).
-- The endpoint is the push service's URL for that browser; p256dh and auth are the browser's
-- P-256 public key (65 bytes, uncompressed) and 16-byte secret that messages are encrypted to
-- (RFC 8291). Neither is a secret of ours: anyone may encrypt to them, only the browser decrypts.
CREATE TABLE push_subscriptions (
    id               uuid PRIMARY KEY,
    org_id           uuid NOT NULL,
    user_id          uuid NOT NULL,
    endpoint         text NOT NULL CHECK (endpoint ~ '^https?://' AND char_length(endpoint) <= 2048),
    p256dh           bytea NOT NULL CHECK (length(p256dh) = 65),
    auth             bytea NOT NULL CHECK (length(auth) = 16),
    user_agent       text CHECK (char_length(user_agent) <= 300),
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- When the push service last accepted a message for it.
    last_success_at  timestamptz,
    UNIQUE (user_id, endpoint),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id, id);

-- Push joins the channels a delivery goes on and a person chooses.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_channel_check,
    ADD CONSTRAINT deliveries_channel_check CHECK (channel IN ('telegram', 'email', 'webhook', 'push'));
ALTER TABLE notification_preferences DROP CONSTRAINT notification_preferences_channel_check,
    ADD CONSTRAINT notification_preferences_channel_check CHECK (channel IN ('in_app', 'telegram', 'email', 'push'));
