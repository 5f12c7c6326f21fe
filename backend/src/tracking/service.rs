use super::repo::{self, TrackedOrder};
use crate::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    #[error("no order has this tracking link")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] sqlx::Error),
}

/// The order of a tracking token. Tokens are 43 URL-safe characters; anything else is not looked up.
pub async fn track(state: &AppState, token: &str) -> Result<TrackedOrder, TrackingError> {
    if token.is_empty()
        || token.len() > 64
        || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(TrackingError::NotFound);
    }
    repo::by_token(&state.db, token).await?.ok_or(TrackingError::NotFound)
}
