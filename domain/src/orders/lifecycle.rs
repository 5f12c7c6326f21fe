//! The order lifecycle: which action leads where, and who may take it. This is the only place the
//! state machine is defined; services enforce it, the bot and the web ask it which buttons to show.

use super::{OrderAction, OrderStatus};
use crate::Role;
use std::fmt;

/// Who is acting, relative to the order at hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Performer {
    /// The technician the order is assigned to.
    AssignedTechnician,
    /// Any other technician: they may do nothing to this order.
    OtherTechnician,
    Dispatcher,
    Admin,
    /// Managers only read.
    Manager,
    /// Background jobs and auto-assignment.
    System,
}

impl Performer {
    pub const ALL: [Performer; 6] = [
        Performer::AssignedTechnician,
        Performer::OtherTechnician,
        Performer::Dispatcher,
        Performer::Admin,
        Performer::Manager,
        Performer::System,
    ];

    /// `role` is `None` for the system. Being the assigned technician matters only to technicians.
    pub fn of(role: Option<Role>, is_assigned_technician: bool) -> Self {
        match role {
            None => Performer::System,
            Some(Role::Admin) => Performer::Admin,
            Some(Role::Dispatcher) => Performer::Dispatcher,
            Some(Role::Manager) => Performer::Manager,
            Some(Role::Technician) if is_assigned_technician => Performer::AssignedTechnician,
            Some(Role::Technician) => Performer::OtherTechnician,
        }
    }

    /// Who may take an action, in whatever status it applies.
    fn may(self, action: OrderAction) -> bool {
        use OrderAction as A;
        use Performer as P;
        match action {
            A::Assign | A::Reassign | A::Cancel => matches!(self, P::Dispatcher | P::Admin | P::System),
            A::Accept | A::Decline | A::Depart | A::Start | A::Complete => self == P::AssignedTechnician,
            A::Hold | A::Resume => matches!(self, P::AssignedTechnician | P::Dispatcher | P::Admin),
            A::Approve | A::Reject => matches!(self, P::Dispatcher | P::Admin),
        }
    }
}

/// What the machine needs to know about an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderState {
    pub status: OrderStatus,
    /// The status the order was put on hold in; set only while it is on hold.
    pub held_from: Option<OrderStatus>,
    /// From the service type: whether a completed order waits for a dispatcher's approval.
    pub approval_required: bool,
}

/// The order after an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub to: OrderStatus,
    /// The new `held_from`: the previous status when the order goes on hold, otherwise `None`.
    pub held_from: Option<OrderStatus>,
}

/// Why an action was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Nobody may take this action in the current status.
    NotInThisStatus,
    /// The action applies in this status, but not for this performer.
    NotForThisPerformer,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::NotInThisStatus => "is not possible for an order that is",
            Refusal::NotForThisPerformer => "is not permitted to you for an order that is",
        })
    }
}

/// A refused action, with what the performer may do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} {reason} {current}; allowed actions: {}", list(.allowed))]
pub struct TransitionError {
    pub action: OrderAction,
    pub current: OrderStatus,
    pub reason: Refusal,
    /// What this performer may do now, as `allowed_actions` lists it.
    pub allowed: Vec<OrderAction>,
}

fn list(actions: &[OrderAction]) -> String {
    if actions.is_empty() {
        return "none".to_owned();
    }
    actions.iter().map(|action| action.as_str()).collect::<Vec<_>>().join(", ")
}

/// Applies `action` by `performer` to an order in `state`.
pub fn transition(
    state: &OrderState,
    action: OrderAction,
    performer: Performer,
) -> Result<Transition, TransitionError> {
    step(state, action, performer).map_err(|reason| TransitionError {
        action,
        current: state.status,
        reason,
        allowed: allowed_actions(state, performer),
    })
}

/// The actions `performer` may take on an order in `state`, in `OrderAction::ALL` order.
pub fn allowed_actions(state: &OrderState, performer: Performer) -> Vec<OrderAction> {
    OrderAction::ALL.into_iter().filter(|&action| step(state, action, performer).is_ok()).collect()
}

/// The one definition of the machine: `transition` and `allowed_actions` both derive from it.
fn step(state: &OrderState, action: OrderAction, performer: Performer) -> Result<Transition, Refusal> {
    let to = destination(state, action).ok_or(Refusal::NotInThisStatus)?;
    if !performer.may(action) {
        return Err(Refusal::NotForThisPerformer);
    }
    let held_from = (to == OrderStatus::OnHold).then_some(state.status);
    Ok(Transition { to, held_from })
}

/// Where `action` leads from `state`, whoever takes it; `None` if the status does not allow it.
fn destination(state: &OrderState, action: OrderAction) -> Option<OrderStatus> {
    use OrderAction as A;
    use OrderStatus as S;
    let to = match (state.status, action) {
        (S::New, A::Assign) => S::Assigned,
        (S::Assigned, A::Accept) => S::Accepted,
        (S::Assigned, A::Decline) => S::New,
        (S::Accepted, A::Depart) => S::EnRoute,
        (S::Accepted | S::EnRoute, A::Start) => S::InProgress,
        (S::InProgress, A::Hold) => S::OnHold,
        // Holds start only in progress, so an order on hold that lost its `held_from` resumes there.
        (S::OnHold, A::Resume) => state.held_from.unwrap_or(S::InProgress),
        (S::InProgress, A::Complete) if state.approval_required => S::Completed,
        (S::InProgress, A::Complete) => S::Closed,
        (S::Completed, A::Approve) => S::Closed,
        (S::Completed, A::Reject) => S::InProgress,
        (S::Assigned | S::Accepted, A::Reassign) => S::Assigned,
        (from, A::Cancel) if !from.is_terminal() => S::Cancelled,
        _ => return None,
    };
    Some(to)
}

#[cfg(test)]
mod tests;
