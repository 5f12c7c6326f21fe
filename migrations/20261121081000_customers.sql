-- Customers and their sites, searchable by name, phone and address.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TYPE customer_kind AS ENUM ('person', 'company');
CREATE TYPE contact_channel AS ENUM ('phone', 'sms', 'email', 'telegram', 'whatsapp');

-- `array_to_string` is only STABLE (it goes through the element type's output function), so an index
-- cannot use it directly; for `text[]` the result never changes, which makes this wrapper truly immutable.
CREATE FUNCTION customer_phones_text(phones text[]) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT array_to_string(phones, ' ') $$;

CREATE TABLE customers (
    id                 uuid PRIMARY KEY,
    org_id             uuid NOT NULL REFERENCES organizations (id),
    kind               customer_kind NOT NULL,
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- E.164, deduplicated by the application.
    phones             text[] NOT NULL DEFAULT '{}'
                       CHECK (cardinality(phones) <= 10 AND array_position(phones, NULL) IS NULL),
    email              text CHECK (email = lower(email)),
    tax_id             text,
    notes              text,
    -- NULL: the customer stated no preference.
    preferred_channel  contact_channel,
    archived_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- Orders reference (org_id, customer_id), so an order can never point into another tenant.
    UNIQUE (org_id, id)
);
-- The default list: active customers of one organization in id order.
CREATE INDEX customers_org_active ON customers (org_id, id) WHERE archived_at IS NULL;
CREATE INDEX customers_name_trgm ON customers USING gin (name gin_trgm_ops);
CREATE INDEX customers_phones_trgm ON customers USING gin (customer_phones_text(phones) gin_trgm_ops);
-- Exact phone overlap: the duplicate hint when a customer is created.
CREATE INDEX customers_phones ON customers USING gin (phones);

CREATE TABLE customer_sites (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL,
    customer_id   uuid NOT NULL,
    label         text CHECK (length(label) BETWEEN 1 AND 80),
    address       text NOT NULL CHECK (length(address) BETWEEN 1 AND 500),
    latitude      double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude     double precision CHECK (longitude BETWEEN -180 AND 180),
    access_notes  text,
    archived_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((latitude IS NULL) = (longitude IS NULL)),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    UNIQUE (org_id, id),
    -- Lets an order reference (org_id, customer_id, site_id), so its site belongs to its customer.
    UNIQUE (org_id, customer_id, id)
);
CREATE INDEX customer_sites_address_trgm ON customer_sites USING gin (address gin_trgm_ops);
