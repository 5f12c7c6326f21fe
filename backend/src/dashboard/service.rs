use super::repo;
use crate::actor::{Actor, Forbidden};
use crate::cache::{CacheKey, Cached};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::api::dashboard::{DashboardCounters, StatusCount};
use domain::orders::OrderStatus;
use domain::schedule::local_day;
use domain::{OrgId, Permission};
use sqlx::PgExecutor;

#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for DashboardError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

/// The counters of the actor's organization, cached for 10 s (see `Cached::DashboardCounters`).
pub async fn counters(state: &AppState, actor: &Actor) -> Result<DashboardCounters, DashboardError> {
    actor.require(Permission::ReadDashboard)?;
    let org = actor.org_id();
    let key = CacheKey::new(Cached::DashboardCounters, org, &serde_json::Value::Null);
    state
        .cache
        .get_or_load(&key, || async {
            let settings = crate::orgs::repo::find(&state.db, org)
                .await?
                .ok_or_else(|| anyhow::anyhow!("organization {org} is missing"))?;
            Ok(counters_at(&state.db, org, settings.time_zone.tz(), Utc::now()).await?)
        })
        .await
}

/// The counters as of `now`, uncached: the dashboard's, and the daily summary's.
pub async fn counters_at(
    db: impl PgExecutor<'_>,
    org: OrgId,
    tz: Tz,
    now: DateTime<Utc>,
) -> sqlx::Result<DashboardCounters> {
    let today = local_day(tz, now.with_timezone(&tz).date_naive());
    let rows = repo::counts_by_status(db, org, today, now).await?;
    Ok(summarize(&rows, now))
}

/// Completed, closed and cancelled orders are finished: neither unassigned nor overdue (as the
/// order list's `overdue` filter has it).
fn is_open(status: OrderStatus) -> bool {
    !matches!(status, OrderStatus::Completed | OrderStatus::Closed | OrderStatus::Cancelled)
}

fn summarize(rows: &[repo::StatusCounts], counted_at: DateTime<Utc>) -> DashboardCounters {
    let count = |n: i64| u64::try_from(n).unwrap_or(0);
    let sum = |keep: fn(OrderStatus) -> bool, pick: fn(&repo::StatusCounts) -> i64| {
        rows.iter().filter(|row| keep(row.status)).map(|row| count(pick(row))).sum()
    };
    let by_status = OrderStatus::ALL
        .iter()
        .map(|&status| StatusCount {
            status,
            count: rows.iter().find(|row| row.status == status).map_or(0, |row| count(row.total)),
        })
        .collect();
    DashboardCounters {
        by_status,
        scheduled_today: sum(|status| status != OrderStatus::Cancelled, |row| row.scheduled_in_range),
        unassigned: sum(is_open, |row| row.without_technician),
        overdue: sum(is_open, |row| row.past_due),
        counted_at,
    }
}
