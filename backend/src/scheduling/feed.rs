//! Calendar feeds: a technician's bookings as iCalendar at a secret, revocable URL, and one
//! order as an `.ics` file.

use super::repo::{self, BookingRow};
use super::service::ScheduleError;
use crate::actor::Actor;
use crate::auth::tokens::{hash_opaque_token, new_opaque_token};
use crate::orders::{OrderError, access::visible};
use crate::state::AppState;
use chrono::{Duration, Utc};
use domain::api::scheduling::CalendarFeedView;
use domain::{OrderId, Permission, UserId};
use icalendar::{Calendar, Component, Event, EventLike};

/// A feed covers this far back and ahead.
const FEED_PAST: Duration = Duration::days(30);
const FEED_AHEAD: Duration = Duration::days(180);

/// The technician themselves or a dispatcher may manage a technician's feed.
fn may_manage(actor: &Actor, technician: UserId) -> Result<(), ScheduleError> {
    if actor.user_id() == Some(technician) {
        return Ok(());
    }
    actor.require(Permission::ManageSchedule)?;
    Ok(())
}

/// A new secret URL for the technician's feed; the previous one stops working.
pub async fn rotate(state: &AppState, actor: &Actor, technician: UserId) -> Result<CalendarFeedView, ScheduleError> {
    may_manage(actor, technician)?;
    let (token, hash) = new_opaque_token();
    let mut conn = state.db.acquire().await?;
    if !repo::set_feed_hash(&mut conn, actor.org_id(), technician, Some(&hash)).await? {
        return Err(ScheduleError::NotFound("technician"));
    }
    Ok(CalendarFeedView { url: format!("{}/calendar/{token}.ics", state.settings.public_base()) })
}

pub async fn revoke(state: &AppState, actor: &Actor, technician: UserId) -> Result<(), ScheduleError> {
    may_manage(actor, technician)?;
    let mut conn = state.db.acquire().await?;
    if !repo::set_feed_hash(&mut conn, actor.org_id(), technician, None).await? {
        return Err(ScheduleError::NotFound("technician"));
    }
    Ok(())
}

/// The feed behind a secret, as iCalendar text; an unknown or revoked secret is not found.
pub async fn feed(state: &AppState, token: &str) -> Result<String, ScheduleError> {
    let token = token.strip_suffix(".ics").unwrap_or(token);
    let (org, technician, name) =
        repo::technician_by_feed(&state.db, &hash_opaque_token(token)).await?.ok_or(ScheduleError::NotFound("feed"))?;
    let now = Utc::now();
    let bookings = repo::bookings(&state.db, org, &[technician.0], (now - FEED_PAST, now + FEED_AHEAD)).await?;
    Ok(render(&format!("Fieldflow: {name}"), &bookings))
}

/// One order as an `.ics` file, for whoever may see the order.
pub async fn order_ics(state: &AppState, actor: &Actor, id: OrderId) -> Result<String, OrderError> {
    actor.require(Permission::ReadOrders)?;
    let order = visible(state, actor, id).await?;
    let (Some(technician), Some(start), Some(end)) = (order.technician_id, order.scheduled_start, order.scheduled_end)
    else {
        return Ok(render(&order.number, &[]));
    };
    let bookings = repo::bookings(&state.db, actor.org_id(), &[technician.0], (start, end)).await?;
    let own: Vec<BookingRow> = bookings.into_iter().filter(|b| b.order_id == id).collect();
    Ok(render(&order.number, &own))
}

fn render(name: &str, bookings: &[BookingRow]) -> String {
    let mut calendar = Calendar::new();
    calendar.name(name);
    for booking in bookings {
        calendar.push(
            Event::new()
                .uid(&format!("{}@fieldflow", booking.order_id))
                .summary(&format!("{} {}", booking.number, booking.title))
                .location(booking.address.as_str())
                .description(&format!("Order {} ({})", booking.number, booking.status))
                .starts(booking.start)
                .ends(booking.end)
                .done(),
        );
    }
    calendar.done().to_string()
}
