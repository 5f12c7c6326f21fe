-- Scheduling and dispatch: bookings that cannot overlap, time off, holidays, job offers,
-- recurring plans and calendar feeds.

CREATE EXTENSION IF NOT EXISTS btree_gist;

-- How an organization dispatches.
ALTER TABLE organizations
    ADD COLUMN travel_buffer_minutes   integer NOT NULL DEFAULT 30 CHECK (travel_buffer_minutes BETWEEN 0 AND 240),
    ADD COLUMN auto_dispatch           boolean NOT NULL DEFAULT false,
    ADD COLUMN offer_fanout            integer NOT NULL DEFAULT 3 CHECK (offer_fanout BETWEEN 1 AND 20),
    ADD COLUMN offer_timeout_minutes   integer NOT NULL DEFAULT 15 CHECK (offer_timeout_minutes BETWEEN 1 AND 1440),
    ADD COLUMN recurring_horizon_days  integer NOT NULL DEFAULT 14 CHECK (recurring_horizon_days BETWEEN 1 AND 365);

-- The territory a site lies in; technicians serve zones.
ALTER TABLE customer_sites ADD COLUMN zone text CHECK (length(zone) BETWEEN 1 AND 40);

-- A booking is an order's scheduled window with its technician. The database refuses two live
-- bookings of one technician that overlap, so no race between dispatchers can double-book.
ALTER TABLE orders
    ADD COLUMN schedule_forced boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT orders_window_whole CHECK ((scheduled_start IS NULL) = (scheduled_end IS NULL)),
    ADD CONSTRAINT orders_no_double_booking EXCLUDE USING gist (
        technician_id WITH =,
        tstzrange(scheduled_start, scheduled_end) WITH &&
    ) WHERE (technician_id IS NOT NULL AND scheduled_start IS NOT NULL AND status <> 'cancelled');

CREATE TYPE time_off_kind AS ENUM ('vacation', 'sick', 'other');
CREATE TABLE time_off (
    id             uuid PRIMARY KEY,
    org_id         uuid NOT NULL,
    technician_id  uuid NOT NULL,
    kind           time_off_kind NOT NULL,
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    note           text CHECK (length(note) <= 500),
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    FOREIGN KEY (org_id, technician_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
CREATE INDEX time_off_technician ON time_off USING gist (technician_id, tstzrange(starts_at, ends_at));

-- Days nobody works, as dates of the organization's calendar.
CREATE TABLE holidays (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL REFERENCES organizations (id),
    day         date NOT NULL,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, day)
);

-- A job offered to several technicians at once: the first to accept gets it.
CREATE TYPE offer_status AS ENUM ('pending', 'accepted', 'withdrawn', 'declined', 'expired');
CREATE TABLE order_offers (
    id             uuid PRIMARY KEY,
    org_id         uuid NOT NULL,
    order_id       uuid NOT NULL,
    technician_id  uuid NOT NULL,
    status         offer_status NOT NULL DEFAULT 'pending',
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    answered_at    timestamptz,
    -- One offer per technician and order: a technician who declined is not asked again.
    UNIQUE (order_id, technician_id),
    FOREIGN KEY (org_id, order_id) REFERENCES orders (org_id, id),
    FOREIGN KEY (org_id, technician_id) REFERENCES users (org_id, id)
);
CREATE INDEX order_offers_pending ON order_offers (expires_at) WHERE status = 'pending';
CREATE INDEX order_offers_technician ON order_offers (technician_id, id);

-- Maintenance contracts: an RRULE in local time generating orders ahead.
CREATE TABLE recurring_plans (
    id                uuid PRIMARY KEY,
    org_id            uuid NOT NULL,
    customer_id       uuid NOT NULL,
    site_id           uuid NOT NULL,
    service_type_id   uuid NOT NULL,
    technician_id     uuid,
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    priority          order_priority NOT NULL DEFAULT 'normal',
    rrule             text NOT NULL CHECK (length(rrule) BETWEEN 1 AND 500),
    -- The first occurrence as a wall-clock time in `time_zone`: occurrences keep that local time.
    starts_local      timestamp NOT NULL,
    time_zone         text NOT NULL,
    duration_minutes  integer NOT NULL CHECK (duration_minutes BETWEEN 1 AND 1440),
    active            boolean NOT NULL DEFAULT true,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, customer_id, site_id) REFERENCES customer_sites (org_id, customer_id, id),
    FOREIGN KEY (org_id, service_type_id) REFERENCES service_types (org_id, id),
    FOREIGN KEY (org_id, technician_id) REFERENCES users (org_id, id)
);
-- One order per occurrence, ever: the generator may run any number of times.
CREATE TABLE recurring_occurrences (
    plan_id    uuid NOT NULL REFERENCES recurring_plans (id) ON DELETE CASCADE,
    occurs_at  timestamptz NOT NULL,
    org_id     uuid NOT NULL,
    order_id   uuid NOT NULL,
    PRIMARY KEY (plan_id, occurs_at),
    FOREIGN KEY (org_id, order_id) REFERENCES orders (org_id, id)
);

-- A technician's iCal feed URL carries a secret; only its hash is kept, and replacing it revokes the old URL.
ALTER TABLE technician_profiles ADD COLUMN calendar_feed_hash bytea UNIQUE;
