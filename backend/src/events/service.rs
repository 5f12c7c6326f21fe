use super::listener::{Subscription, Wake};
use super::repo::{self, Position};
use crate::actor::{Actor, Forbidden, UserActor};
use crate::auth::{self, AuthError};
use crate::orders::access::scope;
use crate::state::AppState;
use domain::api::events::OrderStreamEvent;
use domain::{FieldError, FieldErrors, Permission, UserId};
use futures_util::Stream;
use std::collections::{HashSet, VecDeque};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, Interval, MissedTickBehavior};

/// Replay and catch-up read at most this many rows per query.
const BATCH: i64 = 500;
/// How often a stream re-checks its session (a logout, a disabled account or a role change).
const SESSION_CHECK: Duration = Duration::from_secs(30);
/// How soon a stream reads again events held back behind a running transaction: its end may wake
/// nobody (it need not write an event).
const HELD_BACK_RETRY: Duration = Duration::from_millis(20);

#[derive(Debug, thiserror::Error)]
pub enum EventStreamError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for EventStreamError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

/// Where a client resumes: the `Last-Event-ID` header (sent by a reconnecting `EventSource`) wins
/// over `?after=`; without either the stream starts with the next new event.
#[derive(Debug, Default)]
pub struct StartAt<'a> {
    pub last_event_id: Option<&'a str>,
    pub after: Option<i64>,
}

impl StartAt<'_> {
    fn parse(&self) -> Result<Option<i64>, FieldErrors> {
        let bad = |field: &str| FieldErrors::single(field, FieldError::new("invalid", "must be an event id (≥ 0)"));
        let after = match self.last_event_id {
            Some(header) => Some(header.trim().parse::<i64>().map_err(|_| bad("Last-Event-ID"))?),
            None => self.after,
        };
        match after {
            Some(id) if id < 0 => Err(bad(if self.last_event_id.is_some() { "Last-Event-ID" } else { "after" })),
            other => Ok(other),
        }
    }
}

/// Opens the caller's stream: everything after the starting point, then new events as they are
/// committed (by any process), each once, within the caller's scope. One order's lifecycle events
/// arrive in the order they happened: an action's transaction begins by locking the order's row.
pub async fn open(
    state: &AppState,
    token: Option<&str>,
    start: &StartAt<'_>,
) -> Result<impl Stream<Item = OrderStreamEvent> + Send + use<>, EventStreamError> {
    let actor = auth::service::authenticate(state, token.ok_or(AuthError::MissingToken)?).await?;
    Actor::User(actor).require(Permission::ReadOrders)?;
    let after = start.parse().map_err(EventStreamError::Invalid)?;
    // Subscribe before choosing the starting point, so no wake-up after it is missed.
    let subscription = state.events.subscribe(&state.db);
    let (cursor, skip) = match after {
        Some(0) => (Position::default(), HashSet::new()),
        // An id this organization never had: the next new event.
        Some(id) => match repo::position_of(&state.db, actor.org_id, id).await? {
            Some(position) => (position, HashSet::new()),
            None => start_now(state, &actor).await?,
        },
        None => start_now(state, &actor).await?,
    };
    let mut session_check = tokio::time::interval_at(Instant::now() + SESSION_CHECK, SESSION_CHECK);
    session_check.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let reader = Reader {
        state: state.clone(),
        scope: scope(&Actor::User(actor)),
        actor,
        cursor,
        skip,
        behind: true,
        held_back: false,
        pending: VecDeque::new(),
        subscription,
        session_check,
    };
    Ok(futures_util::stream::unfold(reader, Reader::next))
}

/// Where a stream without a starting point begins: after what is committed now.
async fn start_now(state: &AppState, actor: &UserActor) -> sqlx::Result<(Position, HashSet<i64>)> {
    let now = repo::now(&state.db, actor.org_id).await?;
    Ok((now.position, now.committed.into_iter().collect()))
}

struct Reader {
    state: AppState,
    actor: UserActor,
    /// A technician's own id: they receive only events of their orders.
    scope: Option<UserId>,
    /// The last event read from the table (sent or out of scope); the next read starts after it.
    cursor: Position,
    /// Events committed before the stream opened that sort after `cursor`: not new, not sent.
    skip: HashSet<i64>,
    /// Whether the table may hold events after `cursor`.
    behind: bool,
    /// Whether the last read stopped at events an earlier transaction may still precede.
    held_back: bool,
    pending: VecDeque<OrderStreamEvent>,
    subscription: Subscription,
    session_check: Interval,
}

impl Reader {
    /// The next event to send, or `None` to end the stream (session gone, database error, shutdown);
    /// a client resumes with `Last-Event-ID`.
    async fn next(mut self) -> Option<(OrderStreamEvent, Self)> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some((event, self));
            }
            if self.behind {
                if let Err(error) = self.read().await {
                    tracing::warn!(%error, "event stream read failed; ending the stream");
                    return None;
                }
                continue;
            }
            if *self.subscription.stopping.borrow() {
                return None;
            }
            tokio::select! {
                _ = self.subscription.stopping.changed() => return None,
                wake = self.subscription.wakes.recv() => match wake {
                    Ok(Wake { org }) => self.behind = org.is_none_or(|org| org == self.actor.org_id),
                    // Missed wake-ups only mean "read again": the table has every event.
                    Err(RecvError::Lagged(_)) => self.behind = true,
                    Err(RecvError::Closed) => return None,
                },
                () = tokio::time::sleep(HELD_BACK_RETRY), if self.held_back => self.behind = true,
                _ = self.session_check.tick() => {
                    if !self.session_live().await {
                        return None;
                    }
                    // Also a safety net for a lost notification.
                    self.behind = true;
                }
            }
        }
    }

    async fn read(&mut self) -> sqlx::Result<()> {
        let read = repo::after(&self.state.db, self.actor.org_id, self.cursor, self.scope, BATCH).await?;
        self.held_back = read.held_back;
        self.behind = !read.held_back && read.rows.len() as i64 == BATCH;
        for row in read.rows {
            self.cursor = row.position;
            if !self.skip.remove(&row.event.id) && row.visible {
                self.pending.push_back(row.event);
            }
        }
        Ok(())
    }

    /// Whether the session still stands; a changed role changes the scope from now on.
    async fn session_live(&mut self) -> bool {
        match auth::repo::live_session(&self.state.db, self.actor.session_id, self.actor.user_id).await {
            Ok(Some(live)) => {
                self.actor.role = live.role;
                let actor = Actor::User(self.actor);
                self.scope = scope(&actor);
                actor.require(Permission::ReadOrders).is_ok()
            }
            Ok(None) => false,
            Err(error) => {
                tracing::warn!(%error, "event stream session check failed; ending the stream");
                false
            }
        }
    }
}
