-- Comments on an order: internal notes of the team, or messages the customer will see on the tracking page.

CREATE TYPE comment_visibility AS ENUM ('internal', 'customer');

CREATE TABLE order_comments (
    id          uuid PRIMARY KEY,
    org_id      uuid NOT NULL,
    order_id    uuid NOT NULL,
    author_id   uuid NOT NULL,
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    visibility  comment_visibility NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, order_id) REFERENCES orders (org_id, id),
    FOREIGN KEY (org_id, author_id) REFERENCES users (org_id, id)
);
-- Keyset pages of one order's comments, oldest first (ids are UUID v7).
CREATE INDEX order_comments_order_page ON order_comments (org_id, order_id, id);
