//! `PUT /orders/{id}/booking`: book, move or resize an order's window, or hand it to another
//! technician, in one transaction holding the order's row lock.

use super::OrderError;
use super::repo::{self, NewEvent};
use super::service::{lock_for_work, performer, view};
use crate::actor::Actor;
use crate::scheduling::{booking, repo as schedule_repo};
use crate::state::AppState;
use domain::api::orders::{EventChannel, OrderView};
use domain::api::scheduling::BookingRequest;
use domain::orders::{OrderAction, OrderStatus, transition};
use domain::{FieldError, FieldErrors, OrderId, Permission};
use serde_json::json;

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
    let forced = booking::check_available(&mut tx, org, technician, window, request.force).await?;
    if let Some((_, moved)) = &handover {
        repo::apply_transition(&mut tx, org, id, moved.to, moved.held_from, None).await?;
    }
    if let Err(error) = schedule_repo::set_booking(&mut tx, org, id, technician, window, forced).await {
        return Err(booking::explain(state, tx, org, id, technician, window, error).await);
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
