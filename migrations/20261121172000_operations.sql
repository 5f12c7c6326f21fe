-- Long operations (exports, imports, broadcasts) run as background jobs. This table is their record
-- and their history: Redis only carries the job that says "work on operation X", so a job Redis
-- loses, or a worker that dies, costs a hand-over, never the operation.
CREATE TABLE operations (
    id                  uuid PRIMARY KEY,
    org_id              uuid NOT NULL REFERENCES organizations (id),
    kind                text NOT NULL CHECK (kind IN ('broadcast', 'export_orders', 'import_customers')),
    status              text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    created_by          uuid NOT NULL,
    -- What to do, as the request gave it (validated): the filter, the uploaded file, the message.
    params              jsonb NOT NULL DEFAULT '{}',
    -- Items to work through, once known; `done` succeeded, `failed` were refused (bad import rows).
    total               bigint,
    done                bigint NOT NULL DEFAULT 0 CHECK (done >= 0),
    failed              bigint NOT NULL DEFAULT 0 CHECK (failed >= 0),
    -- Where the next chunk starts. Written in the transaction that commits the chunk's effect, so a
    -- worker that dies resumes here and never does a chunk twice.
    checkpoint          jsonb,
    -- What came of it: the file of an export, the (capped) row errors of an import.
    result              jsonb NOT NULL DEFAULT '{}',
    error               text,
    cancel_requested_at timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    started_at          timestamptz,
    finished_at         timestamptz,
    -- A worker holds a running operation until then and renews the hold with each chunk; when it
    -- runs out (the worker died), the operation is handed over again.
    leased_until        timestamptz,
    -- Which claim holds it: a worker that outlived its lease finds another holder and stops.
    leased_by           uuid,
    -- When the holding worker last committed a chunk.
    heartbeat           timestamptz,
    -- When its job last went to the queue (`-infinity`: not yet; the relay's next round queues it).
    -- An unheld operation whose job is older than the lease (Redis lost it) is queued again.
    queued_at           timestamptz NOT NULL DEFAULT '-infinity',
    -- Claims in a row that made no progress; too many and the operation fails instead of looping.
    stalled_claims      integer NOT NULL DEFAULT 0,
    CHECK ((status IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
    CHECK (total IS NULL OR total >= 0),
    FOREIGN KEY (org_id, created_by) REFERENCES users (org_id, id)
);
CREATE INDEX operations_history ON operations (org_id, id DESC);
CREATE INDEX operations_of_user ON operations (org_id, created_by, id DESC);
CREATE INDEX operations_unfinished ON operations (queued_at) WHERE status IN ('queued', 'running');

-- The CSV of an export, chunk by chunk, each committed with the checkpoint that follows it; the
-- last chunk joins them into the file in storage and deletes them.
CREATE TABLE operation_parts (
    operation_id uuid NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
    seq          integer NOT NULL,
    body         bytea NOT NULL,
    PRIMARY KEY (operation_id, seq)
);

-- Wakes every server process's listener on each change (progress, a cancel request, the end); the
-- payload names the organization and the operation, whose state is read from the table.
CREATE FUNCTION operations_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('operations', NEW.org_id::text || ':' || NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER operations_notify AFTER INSERT OR UPDATE ON operations
    FOR EACH ROW EXECUTE FUNCTION operations_notify();
