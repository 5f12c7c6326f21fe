//! SQL of the outbox and of the in-app inbox.

use chrono::{DateTime, Utc};
use domain::api::notifications::NotificationView;
use domain::{NotificationId, OrderId, OrgId, UserId};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Takes up to `limit` of the oldest outbox rows and answers their event ids. The rows are deleted in
/// the caller's transaction, which commits only once the events are in the queue; rows another relay
/// holds are skipped, not waited for.
pub async fn take_outbox(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
         RETURNING event_id",
        limit,
    )
    .fetch_all(conn)
    .await
}

/// How many events wait in the outbox, and the age in seconds of the oldest.
pub async fn outbox_backlog(db: impl PgExecutor<'_>) -> sqlx::Result<(i64, f64)> {
    let row = sqlx::query!(
        r#"SELECT count(*) AS "waiting!", COALESCE(EXTRACT(epoch FROM now() - min(created_at))::float8, 0) AS "oldest!"
           FROM outbox"#
    )
    .fetch_one(db)
    .await?;
    Ok((row.waiting, row.oldest))
}

/// An order event as the announce job and the webhook deliveries need it.
#[derive(Debug)]
pub struct AnnouncedEvent {
    pub org_id: OrgId,
    pub order_id: OrderId,
    pub order_number: String,
    pub kind: String,
    pub technician_id: Option<UserId>,
    pub actor_user_id: Option<UserId>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

pub async fn event(db: impl PgExecutor<'_>, id: i64) -> sqlx::Result<Option<AnnouncedEvent>> {
    sqlx::query_as!(
        AnnouncedEvent,
        r#"SELECT e.org_id AS "org_id: OrgId", e.order_id AS "order_id: OrderId", o.number AS order_number, e.kind,
                  e.technician_id AS "technician_id: UserId", e.actor_user_id AS "actor_user_id: UserId", e.payload,
                  e.created_at
           FROM order_events e JOIN orders o ON o.org_id = e.org_id AND o.id = e.order_id
           WHERE e.id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await
}

/// Who is to be told: the active people of the event's organization in its audience, never its actor.
#[derive(Debug)]
pub struct RecipientQuery<'a> {
    pub org: OrgId,
    pub actor: Option<UserId>,
    pub office: bool,
    pub technician: Option<UserId>,
    pub offered: &'a [Uuid],
}

pub async fn recipients(db: impl PgExecutor<'_>, query: &RecipientQuery<'_>) -> sqlx::Result<Vec<UserId>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users
           WHERE org_id = $1 AND status = 'active' AND id IS DISTINCT FROM $2
             AND (($3 AND role IN ('admin', 'dispatcher'))
                  OR (role = 'technician' AND (id = $4 OR id = ANY($5))))
           ORDER BY id"#,
        query.org.0,
        query.actor.map(|id| id.0),
        query.office,
        query.technician.map(|id| id.0),
        query.offered,
    )
    .fetch_all(db)
    .await
}

/// Puts the event in each recipient's inbox once, however often the job runs.
pub async fn store_in_app(db: impl PgExecutor<'_>, org: OrgId, event: i64, users: &[UserId]) -> sqlx::Result<u64> {
    let ids: Vec<Uuid> = users.iter().map(|_| Uuid::now_v7()).collect();
    let users: Vec<Uuid> = users.iter().map(|user| user.0).collect();
    let done = sqlx::query!(
        "INSERT INTO notifications (id, org_id, user_id, event_id)
         SELECT id, $1, user_id, $2 FROM UNNEST($3::uuid[], $4::uuid[]) AS u(id, user_id)
         ON CONFLICT (event_id, user_id) DO NOTHING",
        org.0,
        event,
        &ids,
        &users,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A user's inbox, newest first, before the cursor.
pub async fn inbox(
    db: impl PgExecutor<'_>,
    user: UserId,
    unread_only: bool,
    before: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<NotificationView>> {
    sqlx::query_as!(
        NotificationView,
        r#"SELECT n.id AS "id: NotificationId", e.kind, e.order_id AS "order_id: OrderId", o.number AS order_number,
                  o.title AS order_title, e.actor_user_id AS "actor_user_id: UserId", n.created_at, n.read_at
           FROM notifications n
           JOIN order_events e ON e.id = n.event_id
           JOIN orders o ON o.org_id = e.org_id AND o.id = e.order_id
           WHERE n.user_id = $1 AND (NOT $2 OR n.read_at IS NULL) AND ($3::uuid IS NULL OR n.id < $3)
           ORDER BY n.id DESC
           LIMIT $4"#,
        user.0,
        unread_only,
        before,
        limit,
    )
    .fetch_all(db)
    .await
}

pub async fn unread_count(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM notifications WHERE user_id = $1 AND read_at IS NULL"#,
        user.0
    )
    .fetch_one(db)
    .await
}

/// Marks one of the user's notifications read; false when the user has no such notification.
pub async fn mark_read(db: impl PgExecutor<'_>, user: UserId, id: NotificationId) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!(
        "UPDATE notifications SET read_at = COALESCE(read_at, now()) WHERE id = $1 AND user_id = $2 RETURNING id",
        id.0,
        user.0,
    )
    .fetch_optional(db)
    .await?;
    Ok(found.is_some())
}

/// Marks all of the user's notifications read; answers how many were unread.
pub async fn mark_all_read(db: impl PgExecutor<'_>, user: UserId) -> sqlx::Result<u64> {
    let done = sqlx::query!("UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL", user.0)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
