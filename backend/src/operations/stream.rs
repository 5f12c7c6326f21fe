//! The progress of one operation as a stream: its state at once, then each change, until it has
//! finished. The table is the truth: a change wakes this process's listener (the `operations`
//! trigger's notification, through `EventHub`), and the stream reads the operation again and
//! sends it when it differs from what was sent last. A lost wake-up only delays; the 30 s session
//! check reads again too.

use super::repo;
use super::service::{OperationError, get};
use crate::actor::UserActor;
use crate::auth::{self, AuthError};
use crate::events::listener::{OperationWake, Subscription};
use crate::state::AppState;
use domain::OperationId;
use domain::api::operations::OperationView;
use futures_util::Stream;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// How often a stream re-checks its session (a logout, a disabled account).
const SESSION_CHECK: Duration = Duration::from_secs(30);

/// Opens the stream of an operation the caller may see (404 otherwise).
pub async fn open(
    state: &AppState,
    token: Option<&str>,
    id: OperationId,
) -> Result<impl Stream<Item = OperationView> + Send + use<>, OperationError> {
    let user = auth::service::authenticate(state, token.ok_or(AuthError::MissingToken)?).await?;
    // Subscribe before the first read, so no change after it is missed.
    let subscription = state.events.subscribe_operations(&state.db);
    let current = get(state, &user, id).await?;
    let mut session_check = tokio::time::interval_at(Instant::now() + SESSION_CHECK, SESSION_CHECK);
    session_check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let watcher =
        Watcher { state: state.clone(), user, id, sent: None, next: Some(current), subscription, session_check };
    Ok(futures_util::stream::unfold(watcher, Watcher::next))
}

struct Watcher {
    state: AppState,
    user: UserActor,
    id: OperationId,
    /// What was sent last; after a final status, nothing more is.
    sent: Option<OperationView>,
    next: Option<OperationView>,
    subscription: Subscription<OperationWake>,
    session_check: Interval,
}

impl Watcher {
    /// The next state to send, or `None` to end the stream: the operation has finished (its final
    /// state was sent), the session ended, the server is stopping or the database failed.
    async fn next(mut self) -> Option<(OperationView, Self)> {
        loop {
            if self.sent.as_ref().is_some_and(|sent| sent.status.is_final()) {
                return None;
            }
            if let Some(view) = self.next.take() {
                self.sent = Some(view.clone());
                return Some((view, self));
            }
            if *self.subscription.stopping.borrow() {
                return None;
            }
            tokio::select! {
                _ = self.subscription.stopping.changed() => return None,
                wake = self.subscription.wakes.recv() => match wake {
                    Ok(OperationWake { id: Some(id) }) if id != self.id => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                },
                _ = self.session_check.tick() => {
                    if !self.session_live().await {
                        return None;
                    }
                }
            }
            match repo::find(&self.state.db, self.user.org_id, self.id, None).await {
                Ok(Some(view)) if self.sent.as_ref() != Some(&view) => self.next = Some(view),
                Ok(Some(_)) => {}
                Ok(None) => return None,
                Err(error) => {
                    tracing::warn!(%error, "operation stream read failed; ending the stream");
                    return None;
                }
            }
        }
    }

    async fn session_live(&mut self) -> bool {
        match auth::repo::live_session(&self.state.db, self.user.session_id, self.user.user_id).await {
            Ok(live) => live.is_some(),
            Err(error) => {
                tracing::warn!(%error, "operation stream session check failed; ending the stream");
                false
            }
        }
    }
}
