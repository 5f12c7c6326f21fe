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

/// One pass over the organization's orders, grouped by status; statuses without orders are absent.
pub async fn counts_by_status(
    db: impl PgExecutor<'_>,
    org: OrgId,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> sqlx::Result<Vec<StatusCounts>> {
    sqlx::query_as!(
        StatusCounts,
        r#"SELECT status AS "status: OrderStatus", count(*) AS "total!",
                  count(*) FILTER (WHERE scheduled_start >= $2 AND scheduled_start < $3) AS "scheduled_in_range!",
                  count(*) FILTER (WHERE technician_id IS NULL) AS "without_technician!",
                  count(*) FILTER (WHERE sla_due_at < now()) AS "past_due!"
           FROM orders WHERE org_id = $1
           GROUP BY status"#,
        org.0,
        from,
        to,
    )
    .fetch_all(db)
    .await
}
