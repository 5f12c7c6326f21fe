//! The caller's subscribed browsers under `/me/push-subscriptions`, and the VAPID public key.

use super::{encryption, repo};
use crate::actor::UserActor;
use crate::state::AppState;
use domain::api::push::{ListPushSubscriptionsQuery, PushSubscriptionRequest, PushSubscriptionView, VapidPublicKey};
use domain::{FieldError, FieldErrors, Page, PageLimit, PushSubscriptionId};

/// The longest `User-Agent` kept with a subscription.
const MAX_USER_AGENT_CHARS: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("web push is not configured on this server (FIELDFLOW_VAPID_PRIVATE_KEY is empty)")]
    NotConfigured,
    #[error("push subscription not found")]
    NotFound,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for PushError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

/// The `applicationServerKey` browsers subscribe with.
pub fn public_key(state: &AppState) -> Result<VapidPublicKey, PushError> {
    let key = state.push.key().ok_or(PushError::NotConfigured)?;
    Ok(VapidPublicKey { public_key: key.public_key().to_owned() })
}

/// Stores the caller's browser, or refreshes it when its endpoint is known; answers it and whether
/// it is new.
pub async fn subscribe(
    state: &AppState,
    user: &UserActor,
    request: &PushSubscriptionRequest,
    user_agent: Option<&str>,
) -> Result<(PushSubscriptionView, bool), PushError> {
    if state.push.key().is_none() {
        return Err(PushError::NotConfigured);
    }
    let allow_private = state.push.allows_private_networks();
    let subscription = request.parse(allow_private).map_err(PushError::Invalid)?;
    let mut errors = FieldErrors::default();
    if let Err(refused) = crate::webhooks::client::refuse_private_literal(&subscription.endpoint, allow_private) {
        errors.add("endpoint", FieldError::new("private_address", refused.to_string()));
    }
    if encryption::browser_key(&subscription.p256dh).is_none() {
        errors.add("keys.p256dh", FieldError::new("invalid_key", "must be a point on the P-256 curve"));
    }
    if !errors.is_empty() {
        return Err(PushError::Invalid(errors));
    }
    let user_agent = user_agent
        .map(|agent| agent.trim().chars().take(MAX_USER_AGENT_CHARS).collect::<String>())
        .filter(|agent| !agent.is_empty());
    let mut tx = state.db.begin().await?;
    let (id, created) = repo::upsert(&mut tx, user.org_id, user.user_id, &subscription, user_agent.as_deref()).await?;
    let view = repo::find(&mut *tx, user.user_id, id).await?.ok_or(PushError::NotFound)?;
    tx.commit().await?;
    Ok((view, created))
}

pub async fn list(
    state: &AppState,
    user: &UserActor,
    query: &ListPushSubscriptionsQuery,
) -> Result<Page<PushSubscriptionView>, PushError> {
    let limit = PageLimit::new(query.limit);
    let rows = repo::list(&state.db, user.user_id, query.cursor.map(|c| c.0), limit.probe()).await?;
    Ok(Page::from_probe(rows, limit, |row| row.id.0))
}

/// Forgets one of the caller's browsers; another person's is not found.
pub async fn unsubscribe(state: &AppState, user: &UserActor, id: PushSubscriptionId) -> Result<(), PushError> {
    if repo::delete(&state.db, user.user_id, id).await? { Ok(()) } else { Err(PushError::NotFound) }
}
