-- Orders: the work order, its human number, its lifecycle timestamps and its immutable history.

CREATE TYPE order_status AS ENUM (
    'new', 'assigned', 'accepted', 'en_route', 'in_progress', 'on_hold', 'completed', 'closed', 'cancelled'
);
CREATE TYPE order_source AS ENUM ('web', 'bot', 'api', 'recurring');
CREATE TYPE event_channel AS ENUM ('web', 'bot', 'api', 'system');

-- Human numbers (2026-000123) count per organization and year; the row lock serializes them.
CREATE TABLE order_number_counters (
    org_id      uuid NOT NULL REFERENCES organizations (id),
    year        integer NOT NULL,
    last_value  integer NOT NULL,
    PRIMARY KEY (org_id, year)
);

CREATE TABLE orders (
    id                          uuid PRIMARY KEY,
    org_id                      uuid NOT NULL REFERENCES organizations (id),
    number                      text NOT NULL,
    customer_id                 uuid NOT NULL,
    site_id                     uuid NOT NULL,
    service_type_id             uuid NOT NULL,
    title                       text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description                 text NOT NULL DEFAULT '',
    priority                    order_priority NOT NULL DEFAULT 'normal',
    status                      order_status NOT NULL DEFAULT 'new',
    -- Where `resume` returns to; set only while on hold.
    held_from                   order_status,
    -- Copied from the service type when the order is created, so later template edits do not
    -- change the rules of orders already under way.
    approval_required           boolean NOT NULL,
    technician_id               uuid,
    scheduled_start             timestamptz,
    scheduled_end               timestamptz,
    sla_due_at                  timestamptz,
    estimated_duration_minutes  integer CHECK (estimated_duration_minutes > 0),
    estimated_cost_minor        bigint CHECK (estimated_cost_minor >= 0),
    currency                    text NOT NULL,
    source                      order_source NOT NULL,
    -- The customer's tracking link; unguessable.
    tracking_token              text NOT NULL UNIQUE,
    -- Optimistic concurrency: every change increments it; an edit names the version it read.
    version                     integer NOT NULL DEFAULT 1,
    created_by                  uuid,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now(),
    assigned_at                 timestamptz,
    accepted_at                 timestamptz,
    en_route_at                 timestamptz,
    started_at                  timestamptz,
    completed_at                timestamptz,
    closed_at                   timestamptz,
    cancelled_at                timestamptz,
    UNIQUE (org_id, number),
    UNIQUE (org_id, id),
    CHECK (scheduled_end IS NULL OR scheduled_start IS NULL OR scheduled_end > scheduled_start),
    CHECK ((status = 'on_hold') = (held_from IS NOT NULL)),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    -- The site must be one of the order's customer's sites.
    FOREIGN KEY (org_id, customer_id, site_id) REFERENCES customer_sites (org_id, customer_id, id),
    FOREIGN KEY (org_id, service_type_id) REFERENCES service_types (org_id, id),
    FOREIGN KEY (org_id, technician_id) REFERENCES users (org_id, id),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);
-- Keyset pages: everyone's, a technician's own, by status.
CREATE INDEX orders_org_page ON orders (org_id, id);
CREATE INDEX orders_technician_page ON orders (org_id, technician_id, id) WHERE technician_id IS NOT NULL;
CREATE INDEX orders_status_page ON orders (org_id, status, id);
CREATE INDEX orders_customer ON orders (org_id, customer_id, id);
CREATE INDEX orders_scheduled ON orders (org_id, scheduled_start);
CREATE INDEX orders_sla_open ON orders (org_id, sla_due_at)
    WHERE status NOT IN ('completed', 'closed', 'cancelled');
-- Free-text search (`q`) matches lower(number, title, description) by trigrams.
CREATE INDEX orders_text ON orders USING gin (lower(number || ' ' || title || ' ' || description) gin_trgm_ops);

-- The order's history: one immutable row per change, the timeline and the event stream both read it.
CREATE TABLE order_events (
    id             bigserial PRIMARY KEY,
    org_id         uuid NOT NULL,
    order_id       uuid NOT NULL,
    -- The technician the order was assigned to after this event: who may see it on the live stream.
    technician_id  uuid,
    kind           text NOT NULL,
    actor_user_id  uuid,
    channel        event_channel NOT NULL,
    payload        jsonb NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (org_id, order_id) REFERENCES orders (org_id, id)
);
CREATE INDEX order_events_order ON order_events (order_id, id);
CREATE INDEX order_events_org_stream ON order_events (org_id, id);

CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER order_events_append_only BEFORE UPDATE OR DELETE ON order_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
