//! SQL of long operations: the record and history, the lease a worker holds, and progress that
//! commits with its checkpoint.

use domain::api::operations::{OperationKind, OperationStatus, OperationView};
use domain::{OperationId, OrgId, UserId};
use sqlx::{PgConnection, PgExecutor};
use std::time::Duration;
use uuid::Uuid;

/// A new operation, queued.
#[derive(Debug)]
pub struct NewOperation<'a> {
    pub id: OperationId,
    pub org: OrgId,
    pub kind: OperationKind,
    pub created_by: UserId,
    pub params: &'a serde_json::Value,
    pub total: Option<i64>,
}

pub async fn insert(conn: &mut PgConnection, operation: &NewOperation<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO operations (id, org_id, kind, created_by, params, total) VALUES ($1, $2, $3, $4, $5, $6)",
        operation.id.0,
        operation.org.0,
        operation.kind.as_str(),
        operation.created_by.0,
        operation.params,
        operation.total,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Which operations to read; `created_by` is also how a reader who is not an admin is limited to
/// their own.
#[derive(Debug, Default)]
pub struct OperationFilter {
    pub id: Option<OperationId>,
    pub created_by: Option<UserId>,
    pub kind: Option<OperationKind>,
    pub status: Option<OperationStatus>,
    /// Only operations older than this one (the list is newest first).
    pub before: Option<Uuid>,
    pub limit: i64,
}

pub async fn select(db: impl PgExecutor<'_>, org: OrgId, filter: &OperationFilter) -> sqlx::Result<Vec<OperationView>> {
    sqlx::query_as!(
        OperationView,
        r#"SELECT id AS "id: OperationId", kind AS "kind: OperationKind", status AS "status: OperationStatus",
                  created_by AS "created_by: UserId", params, total, done, failed, result, error,
                  cancel_requested_at, created_at, updated_at, started_at, finished_at
           FROM operations
           WHERE org_id = $1 AND ($2::uuid IS NULL OR id = $2) AND ($3::uuid IS NULL OR created_by = $3)
             AND ($4::text IS NULL OR kind = $4) AND ($5::text IS NULL OR status = $5)
             AND ($6::uuid IS NULL OR id < $6)
           ORDER BY id DESC
           LIMIT $7"#,
        org.0,
        filter.id.map(|id| id.0),
        filter.created_by.map(|id| id.0),
        filter.kind.map(OperationKind::as_str),
        filter.status.map(OperationStatus::as_str),
        filter.before,
        filter.limit,
    )
    .fetch_all(db)
    .await
}

/// An operation of the organization, if the reader may see it (`created_by`: only their own).
pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: OperationId,
    created_by: Option<UserId>,
) -> sqlx::Result<Option<OperationView>> {
    let filter = OperationFilter { id: Some(id), created_by, limit: 1, ..OperationFilter::default() };
    Ok(select(db, org, &filter).await?.into_iter().next())
}

/// Takes the operation for a worker for `lease`, unless it is finished or another worker holds it;
/// answers the holder's token and how many claims in a row made no progress (counting this one).
pub async fn claim(db: impl PgExecutor<'_>, id: OperationId, lease: Duration) -> sqlx::Result<Option<(Uuid, i32)>> {
    let holder = Uuid::now_v7();
    let stalled = sqlx::query_scalar!(
        "UPDATE operations
         SET status = 'running', started_at = COALESCE(started_at, now()), leased_by = $2,
             leased_until = now() + make_interval(secs => $3), heartbeat = now(), stalled_claims = stalled_claims + 1,
             updated_at = now()
         WHERE id = $1 AND status IN ('queued', 'running') AND (leased_until IS NULL OR leased_until < now())
         RETURNING stalled_claims",
        id.0,
        holder,
        lease.as_secs_f64(),
    )
    .fetch_optional(db)
    .await?;
    Ok(stalled.map(|stalled| (holder, stalled)))
}

/// An operation locked for one chunk, as its worker needs it.
#[derive(Debug, Clone)]
pub struct Locked {
    pub id: OperationId,
    pub org_id: OrgId,
    pub kind: OperationKind,
    pub status: OperationStatus,
    pub created_by: UserId,
    pub params: serde_json::Value,
    pub checkpoint: Option<serde_json::Value>,
    pub total: Option<i64>,
    pub done: i64,
    pub failed: i64,
    pub result: serde_json::Value,
    pub cancel_requested: bool,
    pub leased_by: Option<Uuid>,
}

/// Locks the operation's row until the transaction ends: a chunk reads the checkpoint and commits
/// the next one under this lock, so two workers can never do the same chunk.
pub async fn lock(conn: &mut PgConnection, id: OperationId) -> sqlx::Result<Option<Locked>> {
    sqlx::query_as!(
        Locked,
        r#"SELECT id AS "id: OperationId", org_id AS "org_id: OrgId", kind AS "kind: OperationKind",
                  status AS "status: OperationStatus", created_by AS "created_by: UserId", params, checkpoint, total,
                  done, failed, result, cancel_requested_at IS NOT NULL AS "cancel_requested!", leased_by
           FROM operations WHERE id = $1 FOR UPDATE"#,
        id.0,
    )
    .fetch_optional(conn)
    .await
}

/// What a chunk did, written with the checkpoint after it.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub checkpoint: serde_json::Value,
    pub done: i64,
    pub failed: i64,
    /// Set when the chunk learned it (an export counts its rows first).
    pub total: Option<i64>,
    /// Replaces the result when set.
    pub result: Option<serde_json::Value>,
}

/// Records a chunk and renews the holder's lease; called in the chunk's transaction.
pub async fn advance(
    conn: &mut PgConnection,
    id: OperationId,
    progress: &Progress,
    lease: Duration,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE operations
         SET checkpoint = $2, done = done + $3, failed = failed + $4, total = COALESCE($5, total),
             result = COALESCE($6, result), leased_until = now() + make_interval(secs => $7), heartbeat = now(),
             stalled_claims = 0, updated_at = now()
         WHERE id = $1",
        id.0,
        progress.checkpoint,
        progress.done,
        progress.failed,
        progress.total,
        progress.result,
        lease.as_secs_f64(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends the operation (`succeeded`, `failed` or `cancelled`) and drops what it kept on the way.
pub async fn finish(
    conn: &mut PgConnection,
    id: OperationId,
    status: OperationStatus,
    error: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE operations
         SET status = $2, error = $3, finished_at = now(), leased_until = NULL, leased_by = NULL, updated_at = now()
         WHERE id = $1",
        id.0,
        status.as_str(),
        error,
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!("DELETE FROM operation_parts WHERE operation_id = $1", id.0).execute(conn).await?;
    Ok(())
}

/// Gives the operation up without finishing it, so the next claim need not wait for the lease;
/// `requeued` says a new job was (about to be) queued for it.
pub async fn release(db: impl PgExecutor<'_>, id: OperationId, holder: Uuid, requeued: bool) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE operations
         SET leased_until = NULL, leased_by = NULL, queued_at = CASE WHEN $3 THEN now() ELSE queued_at END
         WHERE id = $1 AND leased_by = $2",
        id.0,
        holder,
        requeued,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records a request to cancel an unfinished operation the reader may see. One that no worker
/// holds and that has not started is cancelled at once; a running one stops before its next chunk.
/// Answers the status after the request, or `None` when there is no such unfinished operation.
pub async fn request_cancel(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: OperationId,
    created_by: Option<UserId>,
) -> sqlx::Result<Option<OperationStatus>> {
    sqlx::query_scalar!(
        r#"UPDATE operations
           SET cancel_requested_at = COALESCE(cancel_requested_at, now()),
               status = CASE WHEN status = 'queued' AND leased_by IS NULL THEN 'cancelled' ELSE status END,
               finished_at = CASE WHEN status = 'queued' AND leased_by IS NULL THEN now() END,
               updated_at = now()
           WHERE org_id = $1 AND id = $2 AND ($3::uuid IS NULL OR created_by = $3)
             AND status IN ('queued', 'running')
           RETURNING status AS "status: OperationStatus""#,
        org.0,
        id.0,
        created_by.map(|id| id.0),
    )
    .fetch_optional(db)
    .await
}

/// Unfinished operations that no worker holds and whose job went to the queue more than `grace`
/// ago: Redis lost the job, or its worker died and the lease ran out. Marks them queued now, so
/// each is handed over once per `grace`.
pub async fn take_stranded(db: impl PgExecutor<'_>, grace: Duration, limit: i64) -> sqlx::Result<Vec<OperationId>> {
    sqlx::query_scalar!(
        r#"UPDATE operations SET queued_at = now()
           WHERE id IN (SELECT id FROM operations
                        WHERE status IN ('queued', 'running') AND queued_at < now() - make_interval(secs => $1)
                          AND (leased_until IS NULL OR leased_until < now())
                        ORDER BY queued_at LIMIT $2 FOR UPDATE SKIP LOCKED)
           RETURNING id AS "id: OperationId""#,
        grace.as_secs_f64(),
        limit,
    )
    .fetch_all(db)
    .await
}

/// Stores one chunk of an export's file, in the chunk's transaction.
pub async fn insert_part(conn: &mut PgConnection, id: OperationId, seq: i32, body: &[u8]) -> sqlx::Result<()> {
    sqlx::query!("INSERT INTO operation_parts (operation_id, seq, body) VALUES ($1, $2, $3)", id.0, seq, body)
        .execute(conn)
        .await?;
    Ok(())
}

/// One stored chunk of an export's file.
pub async fn part(db: impl PgExecutor<'_>, id: OperationId, seq: i32) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar!("SELECT body FROM operation_parts WHERE operation_id = $1 AND seq = $2", id.0, seq)
        .fetch_optional(db)
        .await
}

/// Succeeded exports whose file expired and is still stored: their organization and id.
pub async fn expired_files(db: impl PgExecutor<'_>, limit: i64) -> sqlx::Result<Vec<(OrgId, OperationId)>> {
    let rows = sqlx::query!(
        r#"SELECT org_id AS "org_id: OrgId", id AS "id: OperationId" FROM operations
           WHERE kind = 'export_orders' AND status = 'succeeded' AND result ? 'file'
             AND NOT (result -> 'file' ? 'deleted_at')
             AND (result -> 'file' ->> 'expires_at')::timestamptz < now()
           ORDER BY id LIMIT $1"#,
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| (row.org_id, row.id)).collect())
}

/// Notes that an export's file was deleted.
pub async fn file_deleted(db: impl PgExecutor<'_>, id: OperationId) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE operations SET result = jsonb_set(result, '{file,deleted_at}', to_jsonb(now())), updated_at = now()
         WHERE id = $1",
        id.0
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Who a broadcast is for: the organization's active technicians, only those named, only those
/// serving the zone (both: the named ones serving it).
#[derive(Debug, Clone, Copy)]
pub struct Audience<'a> {
    pub org: OrgId,
    pub technicians: Option<&'a [UserId]>,
    pub zone: Option<&'a str>,
}

/// The next `limit` technicians of the audience after `after`, in id order, with their language.
pub async fn audience(
    db: impl PgExecutor<'_>,
    audience: Audience<'_>,
    after: Option<UserId>,
    limit: i64,
) -> sqlx::Result<Vec<(UserId, String)>> {
    let ids: Option<Vec<Uuid>> = audience.technicians.map(|ids| ids.iter().map(|id| id.0).collect());
    let rows = sqlx::query!(
        r#"SELECT u.id AS "id: UserId", u.locale
           FROM users u JOIN technician_profiles p ON p.org_id = u.org_id AND p.user_id = u.id
           WHERE u.org_id = $1 AND u.role = 'technician' AND u.status = 'active'
             AND ($2::uuid[] IS NULL OR u.id = ANY($2)) AND ($3::text IS NULL OR $3 = ANY(p.zones))
             AND ($4::uuid IS NULL OR u.id > $4)
           ORDER BY u.id
           LIMIT $5"#,
        audience.org.0,
        ids.as_deref(),
        audience.zone,
        after.map(|id| id.0),
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| (row.id, row.locale)).collect())
}

/// How many technicians the audience holds.
pub async fn audience_size(db: impl PgExecutor<'_>, audience: Audience<'_>) -> sqlx::Result<i64> {
    let ids: Option<Vec<Uuid>> = audience.technicians.map(|ids| ids.iter().map(|id| id.0).collect());
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!"
           FROM users u JOIN technician_profiles p ON p.org_id = u.org_id AND p.user_id = u.id
           WHERE u.org_id = $1 AND u.role = 'technician' AND u.status = 'active'
             AND ($2::uuid[] IS NULL OR u.id = ANY($2)) AND ($3::text IS NULL OR $3 = ANY(p.zones))"#,
        audience.org.0,
        ids.as_deref(),
        audience.zone,
    )
    .fetch_one(db)
    .await
}

/// Of the given ids, those that are not technicians of the organization (any status).
pub async fn not_technicians(db: impl PgExecutor<'_>, org: OrgId, ids: &[UserId]) -> sqlx::Result<Vec<UserId>> {
    let ids: Vec<Uuid> = ids.iter().map(|id| id.0).collect();
    sqlx::query_scalar!(
        r#"SELECT asked AS "id!: UserId" FROM UNNEST($2::uuid[]) AS asked
           WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = $1 AND u.id = asked AND u.role = 'technician')
           ORDER BY asked"#,
        org.0,
        &ids,
    )
    .fetch_all(db)
    .await
}
