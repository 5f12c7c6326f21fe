use chrono::{DateTime, Utc};
use domain::OrgId;
use domain::orders::OrderStatus;
use sqlx::PgExecutor;

/// The organization's orders of one status, with how many of them fall under each counter.
#[derive(Debug)]
pub struct StatusCounts {
    pub status: OrderStatus,
    pub total: i64,
    pub scheduled_in_range: i64,
    pub without_technician: i64,
    pub past_due: i64,
}

/// One pass over the organization's orders as of `now`, grouped by status; statuses without orders
/// are absent.
pub async fn counts_by_status(
    db: impl PgExecutor<'_>,
    org: OrgId,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<StatusCounts>> {
    sqlx::query_as!(
        StatusCounts,
        r#"SELECT status AS "status: OrderStatus", count(*) AS "total!",
                  count(*) FILTER (WHERE scheduled_start >= $2 AND scheduled_start < $3) AS "scheduled_in_range!",
                  count(*) FILTER (WHERE technician_id IS NULL) AS "without_technician!",
                  count(*) FILTER (WHERE sla_due_at < $4) AS "past_due!"
           FROM orders WHERE org_id = $1
           GROUP BY status"#,
        org.0,
        from,
        to,
        now,
    )
    .fetch_all(db)
    .await
}

/// What happened to the organization's orders in `from..to`.
#[derive(Debug)]
pub struct Activity {
    pub created: i64,
    pub completed: i64,
    pub cancelled: i64,
    /// Orders due in the period and not finished by their due time (as `OrderRow::sla` has it).
    pub sla_breached: i64,
}

pub async fn activity(
    db: impl PgExecutor<'_>,
    org: OrgId,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> sqlx::Result<Activity> {
    sqlx::query_as!(
        Activity,
        r#"SELECT count(*) FILTER (WHERE created_at >= $2 AND created_at < $3) AS "created!",
                  count(*) FILTER (WHERE completed_at >= $2 AND completed_at < $3) AS "completed!",
                  count(*) FILTER (WHERE cancelled_at >= $2 AND cancelled_at < $3) AS "cancelled!",
                  count(*) FILTER (WHERE sla_due_at >= $2 AND sla_due_at < $3
                      AND COALESCE(CASE WHEN status IN ('completed', 'closed', 'cancelled')
                                        THEN COALESCE(completed_at, cancelled_at) END, 'infinity') > sla_due_at)
                      AS "sla_breached!"
           FROM orders
           WHERE org_id = $1 AND (created_at >= $2 OR completed_at >= $2 OR cancelled_at >= $2 OR sla_due_at >= $2)"#,
        org.0,
        from,
        to,
    )
    .fetch_one(db)
    .await
}
