//! Who may see and work on an order: a technician only the orders assigned to them (anything else
//! is "not found"), managers read only, and the actions each caller may take on what they see.

use super::OrderError;
use super::repo::{self, OrderRow};
use crate::actor::{Actor, Forbidden};
use crate::state::AppState;
use chrono::Utc;
use domain::api::orders::OrderView;
use domain::orders::{Performer, allowed_actions};
use domain::{OrderId, Permission, Role, UserId};

/// A technician sees only the orders (and the calendar lane) assigned to them; everyone else in the
/// organization sees all.
pub fn scope(actor: &Actor) -> Option<UserId> {
    match actor {
        Actor::User(user) if user.role == Role::Technician => Some(user.user_id),
        _ => None,
    }
}

pub fn role_of(actor: &Actor) -> Option<Role> {
    match actor {
        Actor::User(user) => Some(user.role),
        Actor::System { .. } => None,
    }
}

fn is_assigned(actor: &Actor, order: &OrderRow) -> bool {
    actor.user_id().is_some() && order.technician_id == actor.user_id()
}

pub fn performer(actor: &Actor, order: &OrderRow) -> Performer {
    Performer::of(role_of(actor), is_assigned(actor, order))
}

pub fn view(state: &AppState, actor: &Actor, order: OrderRow) -> OrderView {
    let allowed = allowed_actions(&order.state(), performer(actor, &order));
    // A technician learns whom to call for the jobs assigned to them, and nobody else's.
    let with_contact = is_assigned(actor, &order) || actor.require(Permission::ReadCustomers).is_ok();
    order.into_view(allowed, Utc::now(), state.settings.public_base(), with_contact)
}

/// Reads one order the actor may see; anything else is "not found".
pub async fn visible(state: &AppState, actor: &Actor, id: OrderId) -> Result<OrderRow, OrderError> {
    let order = repo::find(&state.db, actor.org_id(), id).await?.ok_or(OrderError::NotFound)?;
    match scope(actor) {
        Some(technician) if order.technician_id != Some(technician) => Err(OrderError::NotFound),
        _ => Ok(order),
    }
}

/// Opens a transaction holding the row lock of an order the actor may work on: it is in their
/// organization and they see it (technicians: their own; else 404), and their role acts on orders
/// (managers only read; 403). Actions and checklist changes both start here, so they are ordered.
pub async fn lock_for_work(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, OrderRow), OrderError> {
    actor.require(Permission::ReadOrders)?;
    if role_of(actor) == Some(Role::Manager) {
        return Err(Forbidden.into());
    }
    let mut tx = state.db.begin().await?;
    if !repo::lock(&mut tx, actor.org_id(), id).await? {
        return Err(OrderError::NotFound);
    }
    let order = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(OrderError::NotFound)?;
    if matches!(scope(actor), Some(own) if order.technician_id != Some(own)) {
        return Err(OrderError::NotFound);
    }
    Ok((tx, order))
}
