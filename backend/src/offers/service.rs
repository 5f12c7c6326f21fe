use super::repo::{self, OfferFilter};
use crate::actor::{Actor, Forbidden};
use crate::orders::access::{lock_for_work, role_of, scope};
use crate::orders::booking;
use crate::orders::follow_up::AfterDecline;
use crate::orders::repo::{self as orders_repo, NewEvent, OrderRow};
use crate::orders::service::invalid;
use crate::orders::{OrderError, service::get};
use crate::scheduling::{board, repo as schedule_repo, suggest};
use crate::state::AppState;
use chrono::{DateTime, Utc};
use domain::api::orders::{EventChannel, OrderView};
use domain::api::scheduling::{CreateOffersRequest, OfferStatus, OfferView, OffersQuery};
use domain::orders::{OrderAction, Performer, transition};
use domain::{OfferId, OrderId, OrgId, Page, PageLimit, Permission, Role, UserId};
use futures_util::future::BoxFuture;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

/// At most this many technicians per offer round.
const MAX_FANOUT: usize = 20;

/// Offers a new order to its best candidates (or to the technicians named) at once.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    id: OrderId,
    request: &CreateOffersRequest,
    channel: EventChannel,
) -> Result<Vec<OfferView>, OrderError> {
    actor.require(Permission::ManageSchedule)?;
    let (mut tx, order) = lock_for_work(state, actor, id).await?;
    let org = actor.org_id();
    // An offer is an assignment waiting for a taker: only an order that could be assigned now.
    transition(&order.state(), OrderAction::Assign, Performer::of(role_of(actor), false))?;
    let technicians = match &request.technician_ids {
        Some(ids) => {
            if ids.is_empty() || ids.len() > MAX_FANOUT {
                return Err(invalid("technician_ids", "out_of_range", "name 1 to 20 technicians"));
            }
            for technician in ids {
                booking::technician(&mut tx, org, *technician).await?;
            }
            ids.clone()
        }
        None => {
            let settings = board::settings(&mut tx, org).await?;
            let count = request.count.map_or(settings.offer_fanout as usize, |n| n as usize);
            if !(1..=MAX_FANOUT).contains(&count) {
                return Err(invalid("count", "out_of_range", "must be 1 to 20"));
            }
            next_candidates(&mut tx, org, &order, count).await?
        }
    };
    let offers = offer(&mut tx, org, &order, &technicians, actor.user_id(), channel).await?;
    tx.commit().await?;
    Ok(offers)
}

/// The best eligible technicians not yet asked about this order.
async fn next_candidates(
    conn: &mut PgConnection,
    org: OrgId,
    order: &OrderRow,
    count: usize,
) -> Result<Vec<UserId>, OrderError> {
    let asked = repo::offered_to(conn, order.id).await?;
    let ranked = suggest::rank(conn, org, order, &asked, Utc::now()).await?;
    let best: Vec<UserId> = ranked.into_iter().filter(|c| c.eligible).take(count).map(|c| c.technician_id).collect();
    if best.is_empty() {
        return Err(OrderError::NoCandidate);
    }
    Ok(best)
}

/// Writes the offers and the order's `offered` event.
async fn offer(
    conn: &mut PgConnection,
    org: OrgId,
    order: &OrderRow,
    technicians: &[UserId],
    by: Option<UserId>,
    channel: EventChannel,
) -> Result<Vec<OfferView>, OrderError> {
    let settings = board::settings(&mut *conn, org).await?;
    let expires_at = Utc::now() + settings.offer_timeout;
    let ids: Vec<Uuid> = technicians.iter().map(|t| t.0).collect();
    let created = repo::insert(&mut *conn, org, order.id, &ids, expires_at).await?;
    let event = NewEvent {
        org,
        order: order.id,
        technician: None,
        kind: "offered",
        actor: by,
        channel,
        payload: json!({ "technician_ids": technicians, "expires_at": expires_at }),
    };
    orders_repo::insert_event(&mut *conn, &event).await?;
    let filter =
        OfferFilter { order: Some(order.id), status: Some(OfferStatus::Pending), limit: 100, ..Default::default() };
    let pending = repo::select(&mut *conn, org, &filter).await?;
    Ok(pending.into_iter().filter(|o| created.contains(&o.id)).collect())
}

/// The first technician to accept gets the order (assigned and accepted in one step); everyone
/// else's offer is withdrawn. The order's row lock makes concurrent accepts take turns.
pub async fn accept(
    state: &AppState,
    actor: &Actor,
    id: OfferId,
    channel: EventChannel,
) -> Result<OrderView, OrderError> {
    let (mut tx, offer) = own_offer(state, actor, id).await?;
    let org = actor.org_id();
    if !orders_repo::lock(&mut tx, org, offer.order_id).await? {
        return Err(OrderError::NotFound);
    }
    // Re-read under the order's lock: an earlier accept may have closed this offer meanwhile.
    let offer = find(&mut tx, org, id).await?;
    if offer.status != OfferStatus::Pending || offer.expires_at <= Utc::now() {
        return Err(OrderError::OfferClosed(offer.status));
    }
    let order = orders_repo::find(&mut *tx, org, offer.order_id).await?.ok_or(OrderError::NotFound)?;
    let technician = offer.technician_id;
    let assigned = transition(&order.state(), OrderAction::Assign, Performer::System)?;
    let after_assign = domain::orders::OrderState { status: assigned.to, held_from: None, ..order.state() };
    let accepted = transition(&after_assign, OrderAction::Accept, Performer::AssignedTechnician)?;
    orders_repo::apply_transition(&mut tx, org, order.id, assigned.to, None, Some(Some(technician))).await?;
    orders_repo::apply_transition(&mut tx, org, order.id, accepted.to, None, None).await?;
    if let Some(window) = order.scheduled_start.zip(order.scheduled_end) {
        let forced = booking::check_available(&mut tx, org, technician, window, false).await?;
        if let Err(error) = schedule_repo::set_booking(&mut tx, org, order.id, technician, window, forced).await {
            return Err(booking::explain(state, tx, org, order.id, technician, window, error).await);
        }
    }
    repo::answer(&mut tx, id, OfferStatus::Accepted).await?;
    repo::withdraw_others(&mut tx, order.id, Some(id)).await?;
    for (kind, from, to) in [("assign", order.status, assigned.to), ("accept", assigned.to, accepted.to)] {
        let event = NewEvent {
            org,
            order: order.id,
            technician: Some(technician),
            kind,
            actor: actor.user_id(),
            channel,
            payload: json!({ "from": from, "to": to, "technician_id": technician, "offer_id": id }),
        };
        orders_repo::insert_event(&mut tx, &event).await?;
    }
    tx.commit().await?;
    get(state, actor, order.id).await
}

/// Turns an offer down. With auto-dispatch on, once no offer of the order is open any more, the
/// order goes to the next candidates.
pub async fn decline(
    state: &AppState,
    actor: &Actor,
    id: OfferId,
    channel: EventChannel,
) -> Result<OfferView, OrderError> {
    let (mut tx, offer) = own_offer(state, actor, id).await?;
    let org = actor.org_id();
    if !orders_repo::lock(&mut tx, org, offer.order_id).await? {
        return Err(OrderError::NotFound);
    }
    if !repo::answer(&mut tx, id, OfferStatus::Declined).await? {
        return Err(OrderError::OfferClosed(find(&mut tx, org, id).await?.status));
    }
    let order = orders_repo::find(&mut *tx, org, offer.order_id).await?.ok_or(OrderError::NotFound)?;
    let event = NewEvent {
        org,
        order: order.id,
        technician: None,
        kind: "offer_declined",
        actor: actor.user_id(),
        channel,
        payload: json!({ "offer_id": id, "technician_id": offer.technician_id }),
    };
    orders_repo::insert_event(&mut tx, &event).await?;
    let filter =
        OfferFilter { order: Some(order.id), status: Some(OfferStatus::Pending), limit: 1, ..Default::default() };
    if repo::select(&mut *tx, org, &filter).await?.is_empty() {
        redispatch(&mut tx, org, &order).await?;
    }
    let declined = find(&mut tx, org, id).await?;
    tx.commit().await?;
    Ok(declined)
}

/// After a technician turned an order down: with auto-dispatch on, offer it to the next
/// candidates who have not been asked; with nobody left, the order simply waits for a dispatcher.
pub async fn redispatch(conn: &mut PgConnection, org: OrgId, order: &OrderRow) -> Result<(), OrderError> {
    let settings = board::settings(&mut *conn, org).await?;
    if !settings.auto_dispatch || order.status.is_terminal() {
        return Ok(());
    }
    match next_candidates(conn, org, order, settings.offer_fanout as usize).await {
        Ok(next) => offer(conn, org, order, &next, None, EventChannel::System).await.map(drop),
        Err(OrderError::NoCandidate) => Ok(()),
        Err(error) => Err(error),
    }
}

/// Redispatches an order its assigned technician declined (`orders::follow_up::AfterDecline`).
#[derive(Debug)]
pub struct Redispatch;

impl AfterDecline for Redispatch {
    fn after_decline<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        org: OrgId,
        order: &'a OrderRow,
        technician: UserId,
    ) -> BoxFuture<'a, Result<(), OrderError>> {
        Box::pin(on_decline(conn, org, order, technician))
    }
}

/// Called when the assigned technician declines the order itself.
async fn on_decline(
    conn: &mut PgConnection,
    org: OrgId,
    order: &OrderRow,
    technician: UserId,
) -> Result<(), OrderError> {
    repo::record_decline(&mut *conn, org, order.id, technician).await?;
    redispatch(conn, org, order).await
}

/// The caller's own offer (technicians only) in a new transaction; anyone else's is not found.
async fn own_offer(
    state: &AppState,
    actor: &Actor,
    id: OfferId,
) -> Result<(sqlx::Transaction<'static, sqlx::Postgres>, OfferView), OrderError> {
    if role_of(actor) != Some(Role::Technician) {
        return Err(Forbidden.into());
    }
    let mut tx = state.db.begin().await?;
    let offer = find(&mut tx, actor.org_id(), id).await?;
    if Some(offer.technician_id) != actor.user_id() {
        return Err(OrderError::NotFound);
    }
    Ok((tx, offer))
}

async fn find(conn: &mut PgConnection, org: OrgId, id: OfferId) -> Result<OfferView, OrderError> {
    let filter = OfferFilter { id: Some(id), limit: 1, ..Default::default() };
    repo::select(conn, org, &filter).await?.into_iter().next().ok_or(OrderError::NotFound)
}

/// The signed-in technician's offers, newest first.
pub async fn mine(state: &AppState, actor: &Actor, query: &OffersQuery) -> Result<Page<OfferView>, OrderError> {
    let own = scope(actor).ok_or(Forbidden)?;
    list(state, actor, OfferFilter { technician: Some(own), ..Default::default() }, query).await
}

/// The offers of one order, for dispatchers.
pub async fn of_order(
    state: &AppState,
    actor: &Actor,
    order: OrderId,
    query: &OffersQuery,
) -> Result<Page<OfferView>, OrderError> {
    actor.require(Permission::ManageSchedule)?;
    crate::orders::access::visible(state, actor, order).await?;
    list(state, actor, OfferFilter { order: Some(order), ..Default::default() }, query).await
}

async fn list(
    state: &AppState,
    actor: &Actor,
    filter: OfferFilter,
    query: &OffersQuery,
) -> Result<Page<OfferView>, OrderError> {
    let limit = PageLimit::new(query.limit);
    let filter =
        OfferFilter { status: query.status, before: query.cursor.map(|c| c.0), limit: limit.probe(), ..filter };
    let rows = repo::select(&state.db, actor.org_id(), &filter).await?;
    Ok(Page::from_probe(rows, limit, |o| o.id.0))
}

/// Expires offers past their time and alerts the dispatchers of each order nobody took.
pub async fn expire(state: &AppState, now: DateTime<Utc>) -> Result<usize, OrderError> {
    let mut tx = state.db.begin().await?;
    let orphaned = repo::expire_due(&mut tx, now).await?;
    for (org, order) in &orphaned {
        let event = NewEvent {
            org: *org,
            order: *order,
            technician: None,
            kind: "offers_expired",
            actor: None,
            channel: EventChannel::System,
            payload: json!({ "alert": "nobody accepted the job in time" }),
        };
        orders_repo::insert_event(&mut tx, &event).await?;
    }
    tx.commit().await?;
    Ok(orphaned.len())
}
