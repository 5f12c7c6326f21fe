//! Who is told about an order event, and each person's own inbox.

use super::repo::{self, RecipientQuery};
use crate::actor::UserActor;
use crate::state::AppState;
use domain::api::notifications::{ListNotificationsQuery, NotificationView, UnreadCount};
use domain::notifications::audience;
use domain::{NotificationId, Page, PageLimit};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("notification not found")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for NotificationError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

/// The announce job: puts the event in the inbox of everyone its audience names. Safe to repeat;
/// answers how many inboxes got it this time.
pub async fn announce(state: &AppState, event_id: i64) -> Result<u64, NotificationError> {
    // Events are never deleted, so a missing one was never committed: nothing to tell.
    let Some(event) = repo::event(&state.db, event_id).await? else { return Ok(0) };
    let audience = audience(&event.kind);
    if !(audience.office || audience.technician || audience.offered) {
        return Ok(0);
    }
    let offered: Vec<Uuid> = match event.payload.get("technician_ids") {
        Some(ids) if audience.offered => serde_json::from_value(ids.clone()).map_err(anyhow::Error::from)?,
        _ => Vec::new(),
    };
    let query = RecipientQuery {
        org: event.org_id,
        actor: event.actor_user_id,
        office: audience.office,
        technician: event.technician_id.filter(|_| audience.technician),
        offered: &offered,
    };
    let recipients = repo::recipients(&state.db, &query).await?;
    Ok(repo::store_in_app(&state.db, event.org_id, event_id, &recipients).await?)
}

/// Events not yet in the queue, and the age in seconds of the oldest: the relay's lag.
pub async fn outbox_backlog(state: &AppState) -> Result<(i64, f64), NotificationError> {
    Ok(repo::outbox_backlog(&state.db).await?)
}

pub async fn inbox(
    state: &AppState,
    user: &UserActor,
    query: &ListNotificationsQuery,
) -> Result<Page<NotificationView>, NotificationError> {
    let limit = PageLimit::new(query.limit);
    let unread_only = query.unread.unwrap_or(false);
    let rows = repo::inbox(&state.db, user.user_id, unread_only, query.cursor.map(|c| c.0), limit.probe()).await?;
    Ok(Page::from_probe(rows, limit, |row| row.id.0))
}

pub async fn unread(state: &AppState, user: &UserActor) -> Result<UnreadCount, NotificationError> {
    Ok(UnreadCount { unread: repo::unread_count(&state.db, user.user_id).await? })
}

pub async fn mark_read(state: &AppState, user: &UserActor, id: NotificationId) -> Result<(), NotificationError> {
    if repo::mark_read(&state.db, user.user_id, id).await? { Ok(()) } else { Err(NotificationError::NotFound) }
}

pub async fn mark_all_read(state: &AppState, user: &UserActor) -> Result<UnreadCount, NotificationError> {
    repo::mark_all_read(&state.db, user.user_id).await?;
    unread(state, user).await
}
