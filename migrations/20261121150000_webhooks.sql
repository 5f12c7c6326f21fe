-- Outgoing webhooks: where an organization's order events are sent. The signing secret is kept
-- sealed (AES-256-GCM under FIELDFLOW_SECRETS_KEY: nonce, ciphertext, tag), never in plain text.
CREATE TABLE webhook_endpoints (
    id             uuid PRIMARY KEY,
    org_id         uuid NOT NULL REFERENCES organizations (id),
    url            text NOT NULL CHECK (url ~ '^https?://' AND char_length(url) <= 2048),
    description    text CHECK (char_length(description) BETWEEN 1 AND 200),
    -- Order event kinds sent to the endpoint; empty means every kind.
    event_types    text[] NOT NULL DEFAULT '{}',
    secret_sealed  bytea NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints (org_id, id);
