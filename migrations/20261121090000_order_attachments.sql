-- Files attached to an order: photos before and after the work, the customer's signature, documents.

CREATE TYPE attachment_kind AS ENUM ('before', 'after', 'other', 'signature');

CREATE TABLE order_attachments (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL,
    order_id      uuid NOT NULL,
    kind          attachment_kind NOT NULL,
    file_name     text NOT NULL CHECK (length(file_name) BETWEEN 1 AND 255),
    -- Detected from the bytes, never taken from the client.
    content_type  text NOT NULL,
    size_bytes    bigint NOT NULL CHECK (size_bytes > 0),
    sha256        bytea NOT NULL CHECK (length(sha256) = 32),
    -- Where the bytes are in the object store; the thumbnail exists for images only.
    storage_key   text NOT NULL UNIQUE,
    thumbnail_key text UNIQUE,
    -- From EXIF, when the photo carries them.
    taken_at      timestamptz,
    latitude      double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude     double precision CHECK (longitude BETWEEN -180 AND 180),
    uploaded_by   uuid,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, order_id) REFERENCES orders (org_id, id),
    FOREIGN KEY (org_id, uploaded_by) REFERENCES users (org_id, id)
);
CREATE INDEX order_attachments_order ON order_attachments (order_id, kind);
