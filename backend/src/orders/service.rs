use super::OrderError;
use super::access::{lock_for_work, performer, scope, view, visible};
use super::booking;
use super::repo::{self, InsertOrder, NewEvent, OrderFilter, TextFilter, TextSearch};
use crate::actor::Actor;
use crate::db::like_contains;
use crate::scheduling::{repo as schedule_repo, suggest};
use crate::state::AppState;
use crate::{auth, orgs};
use chrono::{Datelike, Duration, Utc};
use domain::api::order_list::{ListOrdersQuery, OrderPage, OrderSort, OrderTotal};
use domain::api::orders::{
    CreateOrderRequest, EventChannel, HistoryPage, HistoryQuery, OrderActionRequest, OrderSource, OrderView,
    UpdateOrderRequest,
};
use domain::orders::{OrderAction, transition};
use domain::{CustomerId, FieldError, FieldErrors, OrderId, OrgId, PageLimit, Permission, Phone, SiteId, UserId};
use serde_json::json;
use uuid::Uuid;

pub(crate) fn invalid(field: &str, code: &str, message: &str) -> OrderError {
    OrderError::Invalid(FieldErrors::single(field, FieldError::new(code, message)))
}

pub async fn get(state: &AppState, actor: &Actor, id: OrderId) -> Result<OrderView, OrderError> {
    actor.require(Permission::ReadOrders)?;
    Ok(view(state, actor, visible(state, actor, id).await?))
}

/// Above this many text matches the list walks its sort order and tests the text row by row,
/// which finds a page of a common word sooner than sorting every match would.
const TEXT_MATCHES_TO_SORT: i64 = 2_000;
/// Above this many customers matching the text the list tests it row by row as well: their
/// orders are too many to sort.
const CUSTOMER_MATCHES_TO_SORT: i64 = 200;
/// A query with fewer digits is not taken for part of a phone number: a short run of digits is
/// in most numbers and is more likely part of an order number.
const MIN_PHONE_DIGITS: usize = 4;

pub async fn list(state: &AppState, actor: &Actor, query: &ListOrdersQuery) -> Result<OrderPage, OrderError> {
    actor.require(Permission::ReadOrders)?;
    let limit = PageLimit::new(query.limit);
    let with_total = query.with_total.unwrap_or(false);
    let Some(plan) = ListPlan::new(state, actor, query).await? else {
        let total = with_total.then_some(OrderTotal { count: 0, exact: true });
        return Ok(OrderPage { items: Vec::new(), next_cursor: None, total });
    };
    let rows = repo::select(&state.db, actor.org_id(), &plan.filter(query, limit.probe())).await?;
    let items = rows.into_iter().map(|order| view(state, actor, order)).collect();
    let mut page = OrderPage::from_probe(items, limit, plan.sort);
    if with_total {
        let cap = state.settings.order_total_cap;
        let counted = repo::count(&state.db, actor.org_id(), &plan.filter(query, 0), Some(i64::from(cap))).await?;
        page.total = Some(OrderTotal::up_to(u64::try_from(counted).unwrap_or_default(), u64::from(cap)));
    }
    Ok(page)
}

/// The search of `q`: the order's text and its customer's name by the lower-cased text, its
/// customer's phones by the digits when `q` looks like part of a phone number.
fn text_search(q: &str) -> Option<TextSearch> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    let phone = Phone::search_digits(q).filter(|digits| digits.len() >= MIN_PHONE_DIGITS);
    Some(TextSearch { text: like_contains(&q.to_lowercase()), phone: phone.map(|digits| format!("%{digits}%")) })
}

/// How a list query of `GET /orders` (or an export, page by page) reads the table: the reader's
/// scope and the free-text matches, worked out once per page.
#[derive(Debug)]
pub(crate) struct ListPlan {
    pub sort: OrderSort,
    technician: Option<UserId>,
    search: Option<TextSearch>,
    /// The orders and the customers the search finds through their indexes; `None` when either
    /// are too many, and the list tests the search row by row.
    matches: Option<(Vec<Uuid>, Vec<Uuid>)>,
}

impl ListPlan {
    /// `None` when the reader can see none of the orders asked for (a technician asking for
    /// someone else's). The caller has checked `ReadOrders`.
    pub(crate) async fn new(
        state: &AppState,
        actor: &Actor,
        query: &ListOrdersQuery,
    ) -> Result<Option<Self>, OrderError> {
        let sort = query.sort.unwrap_or_default();
        if query.cursor.is_some_and(|cursor| cursor.sort != sort) {
            return Err(invalid(
                "cursor",
                "other_sort",
                "this cursor belongs to another sort; pass the same `sort` as for its page",
            ));
        }
        let technician = match (scope(actor), query.technician_id) {
            // A technician asking for someone else's orders gets an empty list, never theirs.
            (Some(own), Some(asked)) if own != asked => return Ok(None),
            (Some(own), _) => Some(own),
            (None, asked) => asked,
        };
        let search = query.q.as_deref().and_then(text_search);
        let matches = match &search {
            Some(search) => Self::matches(state, actor.org_id(), search).await?,
            None => None,
        };
        Ok(Some(Self { sort, technician, search, matches }))
    }

    async fn matches(
        state: &AppState,
        org: OrgId,
        search: &TextSearch,
    ) -> Result<Option<(Vec<Uuid>, Vec<Uuid>)>, OrderError> {
        let Some(orders) = repo::text_matches(&state.db, org, &search.text, TEXT_MATCHES_TO_SORT).await? else {
            return Ok(None);
        };
        let customers = repo::customer_matches(&state.db, org, search, CUSTOMER_MATCHES_TO_SORT).await?;
        Ok(customers.map(|customers| (orders, customers)))
    }

    pub(crate) fn filter<'a>(&'a self, query: &'a ListOrdersQuery, limit: i64) -> OrderFilter<'a> {
        let text = match (&self.search, &self.matches) {
            (_, Some((orders, customers))) => Some(TextFilter::Among { orders, customers }),
            (Some(search), None) => Some(TextFilter::Like(search)),
            (None, None) => None,
        };
        OrderFilter {
            id: None,
            statuses: &query.status,
            technician: self.technician,
            customer: query.customer_id,
            service_type: query.service_type_id,
            priority: query.priority,
            from: query.from,
            to: query.to,
            overdue: query.overdue.unwrap_or(false),
            text,
            sort: self.sort,
            after: query.cursor,
            limit,
        }
    }
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
    let mut tx = state.db.begin().await?;
    let id = insert_new(&mut tx, actor, &new, source, channel).await?;
    let order = repo::find(&mut *tx, actor.org_id(), id).await?.ok_or(OrderError::NotFound)?;
    tx.commit().await?;
    Ok(view(state, actor, order))
}

/// Checks that the customer is a live one of the organization (another organization's is as
/// unknown as a made-up id) and the site a live site of that customer.
pub(crate) async fn check_customer_site(
    conn: &mut sqlx::PgConnection,
    org: OrgId,
    customer: CustomerId,
    site: SiteId,
) -> Result<(), OrderError> {
    match repo::site_of_customer(conn, org, customer, site).await? {
        None => Err(invalid("customer_id", "unknown_customer", "no such customer")),
        Some(false) => Err(invalid("site_id", "unknown_site", "no such site of this customer")),
        Some(true) => Ok(()),
    }
}

/// Creates a validated order inside the caller's transaction: checks its site and service type,
/// numbers it, copies the service type's work rules and records the `created` event.
pub(crate) async fn insert_new(
    conn: &mut sqlx::PgConnection,
    actor: &Actor,
    new: &domain::api::orders::NewOrder,
    source: OrderSource,
    channel: EventChannel,
) -> Result<OrderId, OrderError> {
    let org = orgs::repo::find(&mut *conn, actor.org_id()).await?.ok_or(OrderError::NotFound)?;
    check_customer_site(&mut *conn, org.id, new.customer_id, new.site_id).await?;
    let defaults = repo::service_type_defaults(&mut *conn, org.id, new.service_type_id, new.priority)
        .await?
        .ok_or_else(|| invalid("service_type_id", "unknown_service_type", "no such service type"))?;

    let now = Utc::now();
    let id = OrderId::new_v7();
    let (tracking_token, _) = auth::tokens::new_opaque_token();
    let year = now.with_timezone(&org.time_zone.tz()).year();
    let sequence = repo::next_number(&mut *conn, org.id, year).await?;
    let number = format!("{year}-{sequence:06}");
    repo::insert(
        &mut *conn,
        &InsertOrder {
            id,
            org: org.id,
            number: &number,
            new,
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
    super::work_repo::copy_work_rules(&mut *conn, org.id, &[id.0]).await?;
    let event = NewEvent {
        org: org.id,
        order: id,
        technician: None,
        kind: "created",
        actor: actor.user_id(),
        channel,
        payload: json!({ "number": number, "title": new.title, "priority": new.priority, "source": source }),
    };
    repo::insert_event(&mut *conn, &event).await?;
    Ok(id)
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
    let org = actor.org_id();
    let mut tx = state.db.begin().await?;
    let current = repo::find(&mut *tx, org, id).await?.ok_or(OrderError::NotFound)?;
    // A new window of an assigned order is a new booking: the technician must work then.
    let rebooking = match (changes.window, current.technician_id) {
        (Some(Some(window)), Some(technician)) => {
            let forced = booking::check_available(&mut tx, org, technician, window, request.force).await?;
            Some((technician, window, forced))
        }
        _ => None,
    };
    let updated = match repo::update_fields(&mut tx, org, id, request.version, &changes).await {
        Ok(updated) => updated,
        Err(error) => {
            return Err(match rebooking {
                Some((technician, window, _)) => booking::explain(state, tx, org, id, technician, window, error).await,
                None => error.into(),
            });
        }
    };
    if let Some((_, _, forced)) = rebooking {
        schedule_repo::set_forced(&mut tx, org, id, forced).await?;
    }
    if !updated {
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
    let org = actor.org_id();
    // An assignment of an order with a window books the technician for it (or for the best
    // candidate's first free slot with `auto`).
    let mut booking = None;
    let technician = match action {
        OrderAction::Assign | OrderAction::Reassign => {
            let (to, window) = match request.technician_id {
                _ if request.auto && action == OrderAction::Assign => {
                    let (to, window) = suggest::best(&mut tx, org, &order, Utc::now()).await?;
                    (to, Some(window))
                }
                Some(to) => (to, order.scheduled_start.zip(order.scheduled_end)),
                None => return Err(invalid("technician_id", "required", "whom to assign")),
            };
            match window {
                Some(window) => {
                    let forced = booking::check_available(&mut tx, org, to, window, request.force).await?;
                    booking = Some((to, window, forced));
                }
                None => {
                    booking::technician(&mut tx, org, to).await?;
                }
            }
            Some(Some(to))
        }
        OrderAction::Decline => Some(None),
        _ => None,
    };
    // A booking writes the technician with the window, where the no-overlap constraint checks it.
    let handover = if booking.is_some() { None } else { technician };
    repo::apply_transition(&mut tx, org, id, moved.to, moved.held_from, handover).await?;
    if let Some((to, window, forced)) = booking
        && let Err(error) = schedule_repo::set_booking(&mut tx, org, id, to, window, forced).await
    {
        return Err(booking::explain(state, tx, org, id, to, window, error).await);
    }
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
    if let (OrderAction::Decline, Some(declined_by)) = (action, order.technician_id) {
        state.after_decline.after_decline(&mut tx, org, &order, declined_by).await?;
    }
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
