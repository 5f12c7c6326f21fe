//! `sla_alerts`: which alert was raised for which due time of an order.

use chrono::{DateTime, Utc};
use domain::orders::sla::AT_RISK_SHARE;
use domain::{OrderId, OrgId, UserId};
use sqlx::PgConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind {
    AtRisk,
    Breached,
}

impl AlertKind {
    /// The alert's name, which is also its order event's kind.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::AtRisk => "sla_at_risk",
            AlertKind::Breached => "sla_breached",
        }
    }
}

/// An alert to raise: recorded in `sla_alerts` by the same statement that found it.
#[derive(Debug)]
pub struct Alert {
    pub org_id: OrgId,
    pub order_id: OrderId,
    pub technician_id: Option<UserId>,
    pub due_at: DateTime<Utc>,
}

/// Records up to `limit` alerts of `kind` for open orders that crossed its threshold after `since`
/// and by `now`, not yet raised for the order's current due time, earliest crossing first. An order
/// already past due is only breached, never at risk too.
pub async fn claim(
    conn: &mut PgConnection,
    kind: AlertKind,
    now: DateTime<Utc>,
    since: DateTime<Utc>,
    limit: usize,
) -> sqlx::Result<Vec<Alert>> {
    sqlx::query_as!(
        Alert,
        r#"WITH crossed AS (
               SELECT o.id, o.sla_due_at,
                      CASE WHEN $1 = 'sla_breached' THEN o.sla_due_at
                           ELSE o.sla_due_at - (o.sla_due_at - o.created_at) / $3 END AS crossed_at
               FROM orders o
               WHERE o.status NOT IN ('completed', 'closed', 'cancelled') AND o.sla_due_at IS NOT NULL
                 AND ($1 = 'sla_breached' OR o.sla_due_at > $2)),
           raised AS (
               INSERT INTO sla_alerts (order_id, kind, due_at)
               SELECT c.id, $1, c.sla_due_at
               FROM crossed c
               WHERE c.crossed_at <= $2 AND c.crossed_at > $4
                 AND NOT EXISTS (SELECT 1 FROM sla_alerts a
                                 WHERE a.order_id = c.id AND a.kind = $1 AND a.due_at = c.sla_due_at)
               ORDER BY c.crossed_at
               LIMIT $5
               ON CONFLICT DO NOTHING
               RETURNING order_id, due_at)
           SELECT o.org_id AS "org_id!: OrgId", o.id AS "order_id!: OrderId",
                  o.technician_id AS "technician_id?: UserId", r.due_at AS "due_at!"
           FROM raised r JOIN orders o ON o.id = r.order_id"#,
        kind.as_str(),
        now,
        f64::from(AT_RISK_SHARE),
        since,
        i64::try_from(limit).unwrap_or(i64::MAX),
    )
    .fetch_all(conn)
    .await
}
