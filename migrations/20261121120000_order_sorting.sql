-- Sorted order lists page by (sort key, id). Missing times sort as infinity so the keys are never
-- NULL and one index serves both the ORDER BY and the cursor's row comparison.
CREATE INDEX orders_sort_scheduled ON orders (org_id, COALESCE(scheduled_start, 'infinity'::timestamptz), id);
CREATE INDEX orders_sort_scheduled_desc ON orders (org_id, COALESCE(scheduled_start, '-infinity'::timestamptz), id);
CREATE INDEX orders_sort_due ON orders (org_id, COALESCE(sla_due_at, 'infinity'::timestamptz), id);
CREATE INDEX orders_sort_priority ON orders (org_id, priority, id);
