use domain::api::events::OrderStreamEvent;
use domain::api::orders::EventChannel;
use domain::{OrderId, OrgId, UserId};
use sqlx::PgExecutor;

/// One scanned row of the stream; `visible` says whether the reader may receive it.
#[derive(Debug)]
pub struct StreamRow {
    pub event: OrderStreamEvent,
    pub visible: bool,
}

/// The organization's next `limit` events after `after`, in id order, each marked visible or not
/// for a reader limited to `technician` (the order was theirs after the event, or a decline or
/// reassignment took it from them). Scanning invisible rows too lets the reader move past them.
pub async fn after(
    db: impl PgExecutor<'_>,
    org: OrgId,
    after: i64,
    technician: Option<UserId>,
    limit: i64,
) -> sqlx::Result<Vec<StreamRow>> {
    let rows = sqlx::query!(
        r#"SELECT id, order_id AS "order_id: OrderId", kind, actor_user_id AS "actor_user_id: UserId",
                  channel AS "channel: EventChannel", payload, created_at,
                  COALESCE($3::uuid IS NULL OR technician_id = $3
                           OR payload ->> 'previous_technician_id' = $3::text, false) AS "visible!"
           FROM order_events
           WHERE org_id = $1 AND id > $2
           ORDER BY id
           LIMIT $4"#,
        org.0,
        after,
        technician.map(|id| id.0),
        limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| StreamRow {
            event: OrderStreamEvent {
                id: r.id,
                order_id: r.order_id,
                kind: r.kind,
                actor_user_id: r.actor_user_id,
                channel: r.channel,
                payload: r.payload,
                created_at: r.created_at,
            },
            visible: r.visible,
        })
        .collect())
}

/// Where a stream without a starting point begins: after the organization's newest event.
pub async fn newest(db: impl PgExecutor<'_>, org: OrgId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"SELECT COALESCE(max(id), 0) AS "id!" FROM order_events WHERE org_id = $1"#, org.0)
        .fetch_one(db)
        .await
}
