-- Service types: the organization's workflow templates (duration, price, skills, checklist, photo
-- rules, approval, SLA targets), and the order priorities their SLA targets are keyed by.

CREATE TYPE order_priority AS ENUM ('low', 'normal', 'high', 'urgent');

CREATE TABLE service_types (
    id                        uuid PRIMARY KEY,
    org_id                    uuid NOT NULL REFERENCES organizations (id),
    -- The stable identity of a template within its organization: the YAML import upserts by it.
    code                      text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description               text CHECK (length(description) BETWEEN 1 AND 2000),
    default_duration_minutes  integer NOT NULL CHECK (default_duration_minutes > 0),
    -- In the organization's currency.
    default_price_minor       bigint NOT NULL CHECK (default_price_minor >= 0),
    required_skills           text[] NOT NULL DEFAULT '{}',
    -- Ordered items: [{"id": "diagnose", "label": "Diagnose the fault", "required": true}, ...]
    checklist                 jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(checklist) = 'array'),
    required_photos_before    integer NOT NULL DEFAULT 0 CHECK (required_photos_before >= 0),
    required_photos_after     integer NOT NULL DEFAULT 0 CHECK (required_photos_after >= 0),
    approval_required         boolean NOT NULL DEFAULT false,
    -- Minutes to resolution per priority, each optional: {"urgent": 240, "normal": 1440}
    sla                       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(sla) = 'object'),
    -- Archived templates stay for the orders that used them but are not offered for new ones.
    archived_at               timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    -- Orders reference (org_id, service_type_id), so an order can never point into another tenant.
    UNIQUE (org_id, id),
    CONSTRAINT service_types_code_key UNIQUE (org_id, code)
);
