//! The SLA scanner: an open order nearing its due time (`domain::orders::sla`) gets an
//! `sla_at_risk` event, one past it an `sla_breached` event, each once per due time; a new due time
//! re-arms both. The events go through `orders::repo::insert_event`, so they reach the live stream,
//! the outbox and from there everyone `domain::notifications::audience` names.
//!
//! A scan alerts on what became at risk or breached within `LOOK_BACK`, at most `MAX_PER_RUN` of
//! each kind: an alert is news, so orders that crossed long ago (imported history, a scanner that
//! was down for a day) stay quiet instead of flooding everyone at once, and a burst spreads over
//! the next minutes' scans rather than one long transaction chain.

use super::repo::{NewEvent, insert_event};
use super::sla_repo::{self, AlertKind};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use domain::api::orders::EventChannel;
use serde_json::json;

/// How far back a crossing still counts as news.
pub const LOOK_BACK: Duration = Duration::hours(1);
/// Alerts of one kind raised by one scan, at most; the rest wait for the next scan.
pub const MAX_PER_RUN: usize = 500;
/// Orders alerted per transaction.
const SCAN_BATCH: usize = 200;

/// The events one scan raised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Raised {
    pub at_risk: usize,
    pub breached: usize,
}

/// Raises the alerts due at `now`. Safe to run any number of times, even concurrently: the alert's
/// row (order, kind, due time) is inserted once, in the transaction of its event.
pub async fn scan(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Raised> {
    let mut raised = Raised::default();
    for (kind, count) in [(AlertKind::Breached, &mut raised.breached), (AlertKind::AtRisk, &mut raised.at_risk)] {
        while *count < MAX_PER_RUN {
            let limit = SCAN_BATCH.min(MAX_PER_RUN - *count);
            let mut tx = state.db.begin().await?;
            let alerts = sla_repo::claim(&mut tx, kind, now, now - LOOK_BACK, limit).await?;
            for alert in &alerts {
                let event = NewEvent {
                    org: alert.org_id,
                    order: alert.order_id,
                    technician: alert.technician_id,
                    kind: kind.as_str(),
                    actor: None,
                    channel: EventChannel::System,
                    payload: json!({ "sla_due_at": alert.due_at }),
                };
                insert_event(&mut tx, &event).await?;
            }
            tx.commit().await?;
            *count += alerts.len();
            if alerts.len() < limit {
                break;
            }
        }
    }
    Ok(raised)
}
