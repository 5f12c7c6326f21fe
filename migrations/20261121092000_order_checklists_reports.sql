-- The work done on an order: its checklist (instanced from the service type when the order is
-- created), the photo rules it keeps from that moment, and the technician's work report.

CREATE TYPE checklist_item_state AS ENUM ('pending', 'done', 'not_applicable');

-- Copied from the service type at creation, like `approval_required`: later template edits do not
-- change what an order under way needs to be completed.
ALTER TABLE orders
    ADD COLUMN required_photos_before integer NOT NULL DEFAULT 0 CHECK (required_photos_before >= 0),
    ADD COLUMN required_photos_after  integer NOT NULL DEFAULT 0 CHECK (required_photos_after >= 0);

CREATE TABLE order_checklist_items (
    org_id      uuid NOT NULL,
    order_id    uuid NOT NULL,
    -- The template item's id, stable within the checklist.
    item_id     text NOT NULL,
    position    integer NOT NULL CHECK (position >= 0),
    label       text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    required    boolean NOT NULL,
    state       checklist_item_state NOT NULL DEFAULT 'pending',
    note        text CHECK (length(note) <= 1000),
    updated_by  uuid,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, item_id),
    UNIQUE (order_id, position),
    -- Marking an item not applicable must say why.
    CHECK (state <> 'not_applicable' OR length(btrim(note)) > 0),
    FOREIGN KEY (org_id, order_id) REFERENCES orders (org_id, id),
    FOREIGN KEY (org_id, updated_by) REFERENCES users (org_id, id)
);

-- One report per order; a rework after `reject` replaces it.
CREATE TABLE order_reports (
    order_id                 uuid PRIMARY KEY,
    org_id                   uuid NOT NULL,
    summary                  text NOT NULL CHECK (length(summary) BETWEEN 1 AND 5000),
    labour_minutes           integer NOT NULL CHECK (labour_minutes >= 0),
    -- Minor units of `currency`, the organization's; computed by `domain::orders::report`.
    parts_total_minor        bigint NOT NULL CHECK (parts_total_minor >= 0),
    labour_total_minor       bigint NOT NULL CHECK (labour_total_minor >= 0),
    total_minor              bigint NOT NULL CHECK (total_minor = parts_total_minor + labour_total_minor),
    currency                 text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    signature_attachment_id  uuid,
    submitted_by             uuid,
    submitted_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, order_id),
    FOREIGN KEY (org_id, order_id) REFERENCES orders (org_id, id),
    FOREIGN KEY (org_id, signature_attachment_id) REFERENCES order_attachments (org_id, id),
    FOREIGN KEY (org_id, submitted_by) REFERENCES users (org_id, id)
);

CREATE TABLE order_report_parts (
    org_id            uuid NOT NULL,
    order_id          uuid NOT NULL,
    position          integer NOT NULL CHECK (position >= 0),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    quantity          numeric(12, 3) NOT NULL CHECK (quantity > 0),
    unit_price_minor  bigint NOT NULL CHECK (unit_price_minor >= 0),
    line_total_minor  bigint NOT NULL CHECK (line_total_minor >= 0),
    PRIMARY KEY (order_id, position),
    FOREIGN KEY (org_id, order_id) REFERENCES order_reports (org_id, order_id) ON DELETE CASCADE
);
