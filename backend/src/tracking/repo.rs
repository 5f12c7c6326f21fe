use chrono::{DateTime, Utc};
use domain::orders::OrderStatus;
use domain::{Locale, OrgName, TimeZone};
use sqlx::PgExecutor;

/// What the tracking page shows, and nothing more.
#[derive(Debug)]
pub struct TrackedOrder {
    pub org_name: OrgName,
    pub locale: Locale,
    pub time_zone: TimeZone,
    pub number: String,
    pub status: OrderStatus,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub scheduled_end: Option<DateTime<Utc>>,
    pub technician_name: Option<String>,
}

/// The order behind a tracking token. Not scoped by organization: the token alone, unique across
/// organizations, is the customer's right to this one order.
pub async fn by_token(db: impl PgExecutor<'_>, token: &str) -> sqlx::Result<Option<TrackedOrder>> {
    sqlx::query_as!(
        TrackedOrder,
        r#"SELECT g.name AS "org_name: OrgName", g.locale AS "locale: Locale", g.time_zone AS "time_zone: TimeZone",
                  o.number, o.status AS "status: OrderStatus", o.scheduled_start, o.scheduled_end,
                  u.full_name AS "technician_name?"
           FROM orders o
           JOIN organizations g ON g.id = o.org_id
           LEFT JOIN users u ON u.org_id = o.org_id AND u.id = o.technician_id
           WHERE o.tracking_token = $1"#,
        token,
    )
    .fetch_optional(db)
    .await
}
