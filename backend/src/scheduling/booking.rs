//! The two rules of a booking: a technician works then (hours, time off, holidays), which a
//! dispatcher may override with `force`; and a technician is never booked twice at once, which
//! nobody may override and the database itself enforces.

use super::repo::{self, FactsFilter, TechnicianFacts};
use crate::orders::OrderError;
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use domain::schedule::Interval;
use domain::{FieldError, FieldErrors, OrderId, OrgId, UserId};
use sqlx::PgConnection;

const EXCLUSION_VIOLATION: &str = "23P01";

/// The active technician's scheduling facts, or a validation error naming `technician_id`.
pub async fn technician(conn: &mut PgConnection, org: OrgId, id: UserId) -> Result<TechnicianFacts, OrderError> {
    let ids = [id.0];
    let filter = FactsFilter { ids: Some(&ids), limit: 1, ..FactsFilter::default() };
    repo::technician_facts(&mut *conn, org, &filter).await?.into_iter().next().ok_or_else(|| {
        OrderError::Invalid(FieldErrors::single(
            "technician_id",
            FieldError::new("unknown_technician", "no such active technician"),
        ))
    })
}

/// Why the technician does not work in `window`, in words a dispatcher reads; empty when they do.
pub async fn unavailability(
    conn: &mut PgConnection,
    org: OrgId,
    technician: &TechnicianFacts,
    window: Interval,
) -> sqlx::Result<Vec<String>> {
    let tz = technician.time_zone.tz();
    let mut reasons = Vec::new();
    if !technician.working_hours.0.covers(tz, window) {
        reasons.push("outside working hours".to_owned());
    }
    let away = repo::time_off_in(&mut *conn, org, &[technician.id.0], (window.start, window.end), None, 5).await?;
    reasons.extend(away.iter().map(|t| format!("time off ({:?}) from {} to {}", t.kind, t.starts_at, t.ends_at)));
    let first_day = window.start.with_timezone(&tz).date_naive();
    let last_day = (window.end - Duration::seconds(1)).with_timezone(&tz).date_naive();
    let holidays = repo::holidays(&mut *conn, org, first_day, last_day).await?;
    reasons.extend(holidays.iter().map(|h| format!("holiday {} ({})", h.day, h.name)));
    Ok(reasons)
}

/// Checks that the technician works in `window`. With `force` a dispatcher books anyway and the
/// answer is `true`: the booking is to be flagged as forced.
pub async fn check_available(
    conn: &mut PgConnection,
    org: OrgId,
    technician: UserId,
    window: (DateTime<Utc>, DateTime<Utc>),
    force: bool,
) -> Result<bool, OrderError> {
    let facts = self::technician(conn, org, technician).await?;
    let interval = Interval::new(window.0, window.1).ok_or_else(|| {
        OrderError::Invalid(FieldErrors::single("end", FieldError::new("before_start", "must be after start")))
    })?;
    let reasons = unavailability(conn, org, &facts, interval).await?;
    match (reasons.is_empty(), force) {
        (true, _) => Ok(false),
        (false, true) => Ok(true),
        (false, false) => Err(OrderError::Unavailable(reasons)),
    }
}

/// Whether the database refused a write because it would double-book a technician.
pub fn is_double_booking(error: &sqlx::Error) -> bool {
    error.as_database_error().and_then(|e| e.code()).is_some_and(|code| code == EXCLUSION_VIOLATION)
}

/// Turns the database's refusal of an overlapping booking into a conflict naming the order that
/// holds the time; any other error stays what it is.
pub async fn explain(
    state: &AppState,
    tx: sqlx::Transaction<'static, sqlx::Postgres>,
    org: OrgId,
    order: OrderId,
    technician: UserId,
    window: (DateTime<Utc>, DateTime<Utc>),
    error: sqlx::Error,
) -> OrderError {
    // The refused statement spoiled the transaction; hand its connection back before reading.
    if let Err(rollback) = tx.rollback().await {
        return rollback.into();
    }
    if !is_double_booking(&error) {
        return error.into();
    }
    // The winner has committed (the constraint waited for it), so a fresh read sees it.
    match repo::colliding(&state.db, org, technician, window, order).await {
        Ok(Some((id, number, start, end))) => OrderError::Conflict { order_id: id, number, start, end },
        Ok(None) => OrderError::Internal(anyhow::anyhow!("booking refused but no colliding order found")),
        Err(error) => error.into(),
    }
}
