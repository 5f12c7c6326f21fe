//! Booking an order's window. The two rules of a booking: a technician works then (hours, time
//! off, holidays), which a dispatcher may override with `force`; and a technician is never booked
//! twice at once, which nobody may override and the database itself enforces. And
//! `PUT /orders/{id}/booking`: book, move or resize an order's window, or hand it to another
//! technician, in one transaction holding the order's row lock.

use super::OrderError;
use super::access::{lock_for_work, performer, view};
use super::repo::{self, NewEvent};
use crate::actor::Actor;
use crate::scheduling::repo::{self as schedule_repo, FactsFilter, Pick, TechnicianFacts};
use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use domain::api::orders::{EventChannel, OrderView};
use domain::api::scheduling::BookingRequest;
use domain::orders::{OrderAction, OrderStatus, transition};
use domain::schedule::Interval;
use domain::{FieldError, FieldErrors, OrderId, OrgId, Permission, UserId};
use serde_json::json;
use sqlx::PgConnection;

const EXCLUSION_VIOLATION: &str = "23P01";

/// The active technician's scheduling facts, or a validation error naming `technician_id`.
pub async fn technician(conn: &mut PgConnection, org: OrgId, id: UserId) -> Result<TechnicianFacts, OrderError> {
    let ids = [id.0];
    let filter = FactsFilter { pick: Pick::Ids(&ids), limit: 1, ..FactsFilter::default() };
    schedule_repo::technician_facts(&mut *conn, org, &filter).await?.into_iter().next().ok_or_else(|| {
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
    let away =
        schedule_repo::time_off_in(&mut *conn, org, &[technician.id.0], (window.start, window.end), None, 5).await?;
    reasons.extend(away.iter().map(|t| format!("time off ({:?}) from {} to {}", t.kind, t.starts_at, t.ends_at)));
    let first_day = window.start.with_timezone(&tz).date_naive();
    let last_day = (window.end - Duration::seconds(1)).with_timezone(&tz).date_naive();
    let holidays = schedule_repo::holidays(&mut *conn, org, first_day, last_day).await?;
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
    match schedule_repo::colliding(&state.db, org, technician, window, order).await {
        Ok(Some((id, number, start, end))) => OrderError::Conflict { order_id: id, number, start, end },
        Ok(None) => OrderError::Internal(anyhow::anyhow!("booking refused but no colliding order found")),
        Err(error) => error.into(),
    }
}

/// `PUT /orders/{id}/booking`.
pub async fn book(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
    request: &BookingRequest,
    channel: EventChannel,
) -> Result<OrderView, OrderError> {
    actor.require(Permission::ManageSchedule)?;
    let window = request.parse().map_err(OrderError::Invalid)?;
    let (mut tx, order) = lock_for_work(state, actor, id).await?;
    let org = actor.org_id();
    let technician = request.technician_id;
    // A new technician is an assignment: the lifecycle decides whether the order may change hands.
    let handover = if order.technician_id == Some(technician) {
        if order.status.is_terminal() || order.status == OrderStatus::Completed {
            return Err(OrderError::Invalid(FieldErrors::single(
                "start",
                FieldError::new("order_finished", "a finished order keeps its booking"),
            )));
        }
        None
    } else {
        let action = if order.status == OrderStatus::New { OrderAction::Assign } else { OrderAction::Reassign };
        Some((action, transition(&order.state(), action, performer(actor, &order))?))
    };
    let forced = check_available(&mut tx, org, technician, window, request.force).await?;
    if let Some((_, moved)) = &handover {
        repo::apply_transition(&mut tx, org, id, moved.to, moved.held_from, None).await?;
    }
    if let Err(error) = schedule_repo::set_booking(&mut tx, org, id, technician, window, forced).await {
        return Err(explain(state, tx, org, id, technician, window, error).await);
    }
    let payload = json!({
        "from": order.status, "to": handover.as_ref().map_or(order.status, |(_, moved)| moved.to),
        "technician_id": technician, "previous_technician_id": order.technician_id,
        "start": window.0, "end": window.1,
        "previous_start": order.scheduled_start, "previous_end": order.scheduled_end, "forced": forced,
    });
    let event = NewEvent {
        org,
        order: id,
        technician: Some(technician),
        kind: handover.as_ref().map_or("rescheduled", |(action, _)| action.as_str()),
        actor: actor.user_id(),
        channel,
        payload,
    };
    repo::insert_event(&mut tx, &event).await?;
    let order = repo::find(&mut *tx, org, id).await?.ok_or(OrderError::NotFound)?;
    tx.commit().await?;
    Ok(view(state, actor, order))
}
