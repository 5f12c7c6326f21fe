//! The SLA scanner: an open order nearing its due time (`domain::orders::sla`) gets an
//! `sla_at_risk` event, one past it an `sla_breached` event, each once per due time; a new due time
//! re-arms both. The events go through `orders::repo::insert_event`, so they reach the live stream,
//! the outbox and from there everyone `domain::notifications::audience` names.

use crate::orders::repo::{NewEvent, insert_event};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use domain::api::orders::EventChannel;
use domain::orders::sla::AT_RISK_SHARE;
use domain::{OrderId, OrgId, UserId};
use serde_json::json;
use sqlx::PgConnection;

/// Orders alerted per transaction.
const SCAN_BATCH: i64 = 200;

/// The events one scan raised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Raised {
    pub at_risk: usize,
    pub breached: usize,
}

/// An alert to raise: recorded in `sla_alerts` by the same statement that found it.
struct Alert {
    org_id: OrgId,
    order_id: OrderId,
    technician_id: Option<UserId>,
    due_at: DateTime<Utc>,
}

/// Raises the alerts due at `now`. Safe to run any number of times, even concurrently: the alert's
/// row (order, kind, due time) is inserted once, in the transaction of its event.
pub async fn scan(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Raised> {
    let mut raised = Raised::default();
    for (kind, count) in [("sla_breached", &mut raised.breached), ("sla_at_risk", &mut raised.at_risk)] {
        loop {
            let mut tx = state.db.begin().await?;
            let alerts = claim(&mut tx, kind, now, SCAN_BATCH).await?;
            for alert in &alerts {
                let event = NewEvent {
                    org: alert.org_id,
                    order: alert.order_id,
                    technician: alert.technician_id,
                    kind,
                    actor: None,
                    channel: EventChannel::System,
                    payload: json!({ "sla_due_at": alert.due_at }),
                };
                insert_event(&mut tx, &event).await?;
            }
            tx.commit().await?;
            *count += alerts.len();
            if alerts.len() < usize::try_from(SCAN_BATCH).unwrap_or(usize::MAX) {
                break;
            }
        }
    }
    Ok(raised)
}

/// Records up to `limit` alerts of `kind` that are due and not yet raised for the order's current
/// due time. An order already past due is only breached, never at risk too.
async fn claim(conn: &mut PgConnection, kind: &str, now: DateTime<Utc>, limit: i64) -> sqlx::Result<Vec<Alert>> {
    sqlx::query_as!(
        Alert,
        r#"WITH raised AS (
               INSERT INTO sla_alerts (order_id, kind, due_at)
               SELECT o.id, $1, o.sla_due_at
               FROM orders o
               WHERE o.status NOT IN ('completed', 'closed', 'cancelled') AND o.sla_due_at IS NOT NULL
                 AND CASE WHEN $1 = 'sla_breached' THEN o.sla_due_at <= $2
                          ELSE o.sla_due_at > $2 AND o.sla_due_at - (o.sla_due_at - o.created_at) / $3 < $2 END
                 AND NOT EXISTS (SELECT 1 FROM sla_alerts a
                                 WHERE a.order_id = o.id AND a.kind = $1 AND a.due_at = o.sla_due_at)
               ORDER BY o.sla_due_at
               LIMIT $4
               ON CONFLICT DO NOTHING
               RETURNING order_id, due_at)
           SELECT o.org_id AS "org_id!: OrgId", o.id AS "order_id!: OrderId",
                  o.technician_id AS "technician_id?: UserId", r.due_at AS "due_at!"
           FROM raised r JOIN orders o ON o.id = r.order_id"#,
        kind,
        now,
        f64::from(AT_RISK_SHARE),
        limit,
    )
    .fetch_all(conn)
    .await
}
