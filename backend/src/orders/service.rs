use super::repo::{self, InsertOrder, NewEvent, OrderFilter, OrderRow};
use crate::actor::{Actor, Forbidden};
use crate::state::AppState;
use crate::{auth, orgs};
use chrono::{Datelike, Duration, Utc};
use domain::api::orders::{
    CreateOrderRequest, EventChannel, HistoryPage, HistoryQuery, ListOrdersQuery, OrderActionRequest, OrderSource,
    OrderView, UpdateOrderRequest,
};
use domain::orders::{OrderAction, Performer, TransitionError, allowed_actions, transition};
use domain::{FieldError, FieldErrors, OrderId, Page, PageLimit, Permission, Role, UserId};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("order not found")]
    NotFound,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("the order changed since version {presented}; it is now at version {current}")]
    StaleVersion { presented: i32, current: i32 },
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for OrderError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

fn invalid(field: &str, code: &str, message: &str) -> OrderError {
    OrderError::Invalid(FieldErrors::single(field, FieldError::new(code, message)))
}

/// A technician sees only the orders assigned to them; everyone else in the organization sees all.
pub(crate) fn scope(actor: &Actor) -> Option<UserId> {
    match actor {
        Actor::User(user) if user.role == Role::Technician => Some(user.user_id),
        _ => None,
    }
}

pub(crate) fn role_of(actor: &Actor) -> Option<Role> {
    match actor {
        Actor::User(user) => Some(user.role),
        Actor::System { .. } => None,
    }
}

fn performer(actor: &Actor, order: &OrderRow) -> Performer {
    let assigned = actor.user_id().is_some() && order.technician_id == actor.user_id();
    Performer::of(role_of(actor), assigned)
}

fn view(state: &AppState, actor: &Actor, order: OrderRow) -> OrderView {
    let allowed = allowed_actions(&order.state(), performer(actor, &order));
    order.into_view(allowed, Utc::now(), state.settings.public_base())
}

/// Reads one order the actor may see; anything else is "not found".
pub(crate) async fn visible(state: &AppState, actor: &Actor, id: OrderId) -> Result<OrderRow, OrderError> {
    let order = repo::find(&state.db, actor.org_id(), id).await?.ok_or(OrderError::NotFound)?;
    match scope(actor) {
        Some(technician) if order.technician_id != Some(technician) => Err(OrderError::NotFound),
        _ => Ok(order),
    }
}

pub async fn get(state: &AppState, actor: &Actor, id: OrderId) -> Result<OrderView, OrderError> {
    actor.require(Permission::ReadOrders)?;
    Ok(view(state, actor, visible(state, actor, id).await?))
}

pub async fn list(state: &AppState, actor: &Actor, query: &ListOrdersQuery) -> Result<Page<OrderView>, OrderError> {
    actor.require(Permission::ReadOrders)?;
    let limit = PageLimit::new(query.limit);
    let technician = match (scope(actor), query.technician_id) {
        // A technician asking for someone else's orders gets an empty list, never theirs.
        (Some(own), Some(asked)) if own != asked => return Ok(Page { items: Vec::new(), next_cursor: None }),
        (Some(own), _) => Some(own),
        (None, asked) => asked,
    };
    let text = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let filter = OrderFilter {
        id: None,
        status: query.status,
        technician,
        customer: query.customer_id,
        service_type: query.service_type_id,
        priority: query.priority,
        from: query.from,
        to: query.to,
        overdue: query.overdue.unwrap_or(false),
        text,
        before: query.cursor.map(|c| c.0),
        limit: limit.probe(),
    };
    let rows = repo::select(&state.db, actor.org_id(), &filter).await?;
    let page = Page::from_probe(rows, limit, |order| order.id.0);
    Ok(Page {
        items: page.items.into_iter().map(|order| view(state, actor, order)).collect(),
        next_cursor: page.next_cursor,
    })
}

pub async fn create(
    state: &AppState,
    actor: &Actor,
    request: &CreateOrderRequest,
    source: OrderSource,
    channel: EventChannel,
) -> Result<OrderView, OrderError> {
    actor.require(Permission::ManageOrders)?;
    let new = request.parse().map_err(OrderError::Invalid)?;
    let org = orgs::repo::find(&state.db, actor.org_id()).await?.ok_or(OrderError::NotFound)?;
    if !repo::site_of_customer(&state.db, org.id, new.customer_id, new.site_id).await? {
        return Err(invalid("site_id", "unknown_site", "no such site of this customer"));
    }
    let defaults = repo::service_type_defaults(&state.db, org.id, new.service_type_id, new.priority)
        .await?
        .ok_or_else(|| invalid("service_type_id", "unknown_service_type", "no such service type"))?;

    let now = Utc::now();
    let id = OrderId::new_v7();
    let (tracking_token, _) = auth::tokens::new_opaque_token();
    let mut tx = state.db.begin().await?;
    let year = now.with_timezone(&org.time_zone.tz()).year();
    let sequence = repo::next_number(&mut tx, org.id, year).await?;
    let number = format!("{year}-{sequence:06}");
    repo::insert(
        &mut tx,
        &InsertOrder {
            id,
            org: org.id,
            number: &number,
            new: &new,
            approval_required: defaults.approval_required,
            sla_due_at: defaults.sla_minutes.map(|minutes| now + Duration::minutes(i64::from(minutes))),
            duration_minutes: defaults.duration_minutes,
            cost_minor: new.estimated_cost_minor.unwrap_or(defaults.price_minor),
            currency: &org.currency,
            source,
            tracking_token: &tracking_token,
            created_by: actor.user_id(),
        },
    )
    .await?;
    super::work_repo::copy_work_rules(&mut tx, org.id, id, new.service_type_id).await?;
    let event = NewEvent {
        org: org.id,
        order: id,
        technician: None,
        kind: "created",
        actor: actor.user_id(),
        channel,
        payload: json!({ "number": number, "title": new.title, "priority": new.priority, "source": source }),
    };
    repo::insert_event(&mut tx, &event).await?;
    let order = repo::find(&mut *tx, org.id, id).await?.ok_or(OrderError::NotFound)?;
    tx.commit().await?;
    Ok(view(state, actor, order))
}

/// Edits fields of the version the caller read; a concurrent change makes the edit stale (409).
pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
    request: &UpdateOrderRequest,
    channel: EventChannel,
) -> Result<OrderView, OrderError> {
    actor.require(Permission::ManageOrders)?;
    let changes = request.parse().map_err(OrderError::Invalid)?;
    let mut tx = state.db.begin().await?;
    if !repo::update_fields(&mut tx, actor.org_id(), id, request.version, &changes).await? {
        let current = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(OrderError::NotFound)?;
        return Err(OrderError::StaleVersion { presented: request.version, current: current.version });
    }
    let order = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(OrderError::NotFound)?;
    let payload = json!({
        "title": changes.title, "description": changes.description, "priority": changes.priority,
        "scheduled_start": changes.window.map(|w| w.map(|(start, _)| start)),
        "scheduled_end": changes.window.map(|w| w.map(|(_, end)| end)),
        "estimated_cost_minor": changes.estimated_cost_minor,
    });
    let event = NewEvent {
        org: actor.org_id(),
        order: id,
        technician: order.technician_id,
        kind: "updated",
        actor: actor.user_id(),
        channel,
        payload,
    };
    repo::insert_event(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(view(state, actor, order))
}

/// Opens a transaction holding the row lock of an order the actor may work on: it is in their
/// organization and they see it (technicians: their own; else 404), and their role acts on orders
/// (managers only read; 403). Actions and checklist changes both start here, so they are ordered.
pub(crate) async fn lock_for_work(
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

/// Applies one lifecycle action inside a transaction holding the order's row lock, so of two
/// concurrent actions exactly one sees the state it was meant for.
pub async fn act(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
    action: OrderAction,
    request: &OrderActionRequest,
    channel: EventChannel,
) -> Result<OrderView, OrderError> {
    let (mut tx, order) = lock_for_work(state, actor, id).await?;
    let moved = transition(&order.state(), action, performer(actor, &order))?;
    let reason = payload_text(action, request)?;
    // Only `complete` needs proof: the report, the checklist and the photos, stored with the move.
    let report = match action {
        OrderAction::Complete => Some(super::work::prove_and_store(&mut tx, actor, &order, request).await?),
        _ => None,
    };
    let technician = match action {
        OrderAction::Assign | OrderAction::Reassign => {
            let to = request.technician_id.ok_or_else(|| invalid("technician_id", "required", "whom to assign"))?;
            if !repo::is_active_technician(&mut *tx, actor.org_id(), to).await? {
                return Err(invalid("technician_id", "unknown_technician", "no such active technician"));
            }
            Some(Some(to))
        }
        OrderAction::Decline => Some(None),
        _ => None,
    };
    repo::apply_transition(&mut tx, actor.org_id(), id, moved.to, moved.held_from, technician).await?;
    let mut payload = json!({
        "from": order.status, "to": moved.to, "reason": reason,
        "technician_id": technician.flatten(), "previous_technician_id": technician.and(order.technician_id),
    });
    if let Some(totals) = report {
        payload["report"] = totals;
    }
    let event = NewEvent {
        org: actor.org_id(),
        order: id,
        technician: technician.unwrap_or(order.technician_id),
        kind: action.as_str(),
        actor: actor.user_id(),
        channel,
        payload,
    };
    repo::insert_event(&mut tx, &event).await?;
    let order = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(OrderError::NotFound)?;
    tx.commit().await?;
    Ok(view(state, actor, order))
}

/// The reason or comment an action needs (decline, hold, cancel: a reason; reject: a comment).
fn payload_text(action: OrderAction, request: &OrderActionRequest) -> Result<Option<String>, OrderError> {
    let (field, text) = match action {
        OrderAction::Reject => ("comment", request.comment.as_deref()),
        _ => ("reason", request.reason.as_deref()),
    };
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    match text {
        Some(t) if t.chars().count() > 1000 => Err(invalid(field, "too_long", "must have at most 1000 characters")),
        None if action.requires_reason() => Err(invalid(field, "required", "this action needs it")),
        other => Ok(other.map(str::to_owned)),
    }
}

pub async fn history(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
    query: &HistoryQuery,
) -> Result<HistoryPage, OrderError> {
    actor.require(Permission::ReadOrders)?;
    visible(state, actor, id).await?;
    let limit = PageLimit::new(query.limit);
    let mut items = repo::events(&state.db, actor.org_id(), id, query.after, limit.probe()).await?;
    let next_after = if items.len() > limit.get() {
        items.truncate(limit.get());
        items.last().map(|event| event.id)
    } else {
        None
    };
    Ok(HistoryPage { items, next_after })
}
