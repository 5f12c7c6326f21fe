-- Periodic jobs: PostgreSQL records which time slot of which task is owed, Redis only carries the
-- job. A slot is claimed by the first scheduler to insert its row, so with several processes each
-- slot is queued once; a run not finished within the job lease is queued again.
CREATE TABLE periodic_runs (
    task         text NOT NULL,
    -- The start of the time slot this run is for (the task's cadence, aligned to the epoch).
    slot         timestamptz NOT NULL,
    -- When the run last went to the queue or a worker last took it; the lease counts from here.
    leased_at    timestamptz NOT NULL,
    attempts     integer NOT NULL DEFAULT 1,
    finished_at  timestamptz,
    -- `done` or `failed`, and what the run did or the error; a failed run is tried again after the
    -- lease until it has had `attempts` enough, then it is given up (the next slot does its work).
    outcome      text CHECK (outcome IN ('done', 'failed')),
    detail       text,
    PRIMARY KEY (task, slot)
);
CREATE INDEX periodic_runs_owed ON periodic_runs (leased_at) WHERE finished_at IS NULL;
CREATE INDEX periodic_runs_finished ON periodic_runs (finished_at) WHERE finished_at IS NOT NULL;

-- The SLA alerts an order has had, per due time: each is raised once, and a new due time re-arms
-- them.
CREATE TABLE sla_alerts (
    order_id    uuid NOT NULL REFERENCES orders (id),
    kind        text NOT NULL CHECK (kind IN ('sla_at_risk', 'sla_breached')),
    due_at      timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, kind, due_at)
);

-- The daily summary: the hour (0–23, in the organization's time zone) it goes to the office; NULL
-- sends none. `daily_summaries` records the local dates it went out (sending is idempotent per
-- organization and date, so a run stopped before recording it only sends nothing new next time).
ALTER TABLE organizations
    ADD COLUMN daily_summary_hour integer CHECK (daily_summary_hour BETWEEN 0 AND 23);
CREATE TABLE daily_summaries (
    org_id      uuid NOT NULL REFERENCES organizations (id),
    local_date  date NOT NULL,
    sent_at     timestamptz NOT NULL,
    PRIMARY KEY (org_id, local_date)
);

-- Where the sweep of stored files left off: it examines a bounded number per run, in key order.
CREATE TABLE storage_sweep (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    after_key   text NOT NULL DEFAULT ''
);
INSERT INTO storage_sweep DEFAULT VALUES;

-- The clean-up finds old sent or dead deliveries by age.
CREATE INDEX deliveries_finished ON deliveries (updated_at) WHERE status <> 'pending';
