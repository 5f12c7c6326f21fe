//! Orders whose whole history is already known — the demo's past and benchmark data — written in
//! batches. Every step is checked by `domain::orders::transition`, so such orders obey the same
//! lifecycle as orders made one action at a time.

use chrono::{DateTime, Utc};
use domain::orders::{OrderAction, OrderState, OrderStatus, Performer, TransitionError, transition};
use domain::{CustomerId, OrderId, Priority, Role, ServiceTypeId, SiteId, UserId};
use serde_json::json;

/// An order as it was created, and what happened to it since.
#[derive(Debug, Clone)]
pub struct PastOrder {
    pub id: OrderId,
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub service_type_id: ServiceTypeId,
    pub title: String,
    pub priority: Priority,
    pub approval_required: bool,
    pub duration_minutes: i32,
    pub cost_minor: i64,
    pub sla_minutes: Option<i32>,
    /// The visit window agreed with the customer, if one was.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub created_by: UserId,
    pub created_at: DateTime<Utc>,
    pub steps: Vec<PastStep>,
}

/// One action taken on a past order.
#[derive(Debug, Clone)]
pub struct PastStep {
    pub action: OrderAction,
    pub by: UserId,
    pub role: Role,
    /// For assign and reassign: to whom.
    pub technician: Option<UserId>,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// The order row and the events its history leaves.
#[derive(Debug, Clone)]
pub struct Replayed {
    pub order: PastOrder,
    pub status: OrderStatus,
    pub held_from: Option<OrderStatus>,
    pub technician: Option<UserId>,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub milestones: [Option<DateTime<Utc>>; 7],
    pub events: Vec<ReplayedEvent>,
}

#[derive(Debug, Clone)]
pub struct ReplayedEvent {
    pub kind: &'static str,
    pub actor: UserId,
    pub technician: Option<UserId>,
    pub payload: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Runs the steps through the state machine; the first refused step refuses the whole order.
pub fn replay(order: PastOrder) -> Result<Replayed, TransitionError> {
    let mut state =
        OrderState { status: OrderStatus::New, held_from: None, approval_required: order.approval_required };
    let mut technician: Option<UserId> = None;
    // assigned, accepted, en_route, started, completed, closed, cancelled
    let mut milestones: [Option<DateTime<Utc>>; 7] = [None; 7];
    let mut events = vec![ReplayedEvent {
        kind: "created",
        actor: order.created_by,
        technician: None,
        payload: json!({ "title": order.title, "priority": order.priority, "source": "web" }),
        at: order.created_at,
    }];
    for step in &order.steps {
        let performer = Performer::of(Some(step.role), technician == Some(step.by));
        let moved = transition(&state, step.action, performer)?;
        let previous = technician;
        match step.action {
            OrderAction::Assign | OrderAction::Reassign => technician = step.technician,
            OrderAction::Decline => technician = None,
            _ => {}
        }
        let slot = match moved.to {
            OrderStatus::Assigned => Some(0),
            OrderStatus::Accepted => Some(1),
            OrderStatus::EnRoute => Some(2),
            OrderStatus::InProgress if milestones[3].is_none() => Some(3),
            OrderStatus::Completed => Some(4),
            OrderStatus::Closed => Some(5),
            OrderStatus::Cancelled => Some(6),
            _ => None,
        };
        if let Some(slot) = slot {
            milestones[slot] = Some(step.at);
        }
        if moved.to == OrderStatus::Closed && milestones[4].is_none() {
            milestones[4] = Some(step.at);
        }
        let changed_technician =
            matches!(step.action, OrderAction::Assign | OrderAction::Reassign | OrderAction::Decline);
        events.push(ReplayedEvent {
            kind: step.action.as_str(),
            actor: step.by,
            technician,
            payload: json!({
                "from": state.status, "to": moved.to, "reason": step.reason,
                "technician_id": if changed_technician { technician } else { None },
                "previous_technician_id": if changed_technician { previous } else { None },
            }),
            at: step.at,
        });
        state = OrderState { status: moved.to, held_from: moved.held_from, ..state };
    }
    let version = i32::try_from(order.steps.len()).unwrap_or(i32::MAX - 1) + 1;
    let updated_at = order.steps.last().map_or(order.created_at, |step| step.at);
    Ok(Replayed {
        status: state.status,
        held_from: state.held_from,
        technician,
        version,
        updated_at,
        milestones,
        events,
        order,
    })
}
