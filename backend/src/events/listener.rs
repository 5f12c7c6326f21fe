use crate::auth::sessions::LiveSessions;
use domain::{OperationId, OrgId, UserId};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::sync::{Arc, Once};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// The channel the `order_events` insert trigger notifies.
const CHANNEL: &str = "order_events";
/// The channel the `operations` trigger notifies on every change of an operation.
const OPERATIONS_CHANNEL: &str = "operations";
/// The channel the `sessions` and `users` triggers notify with the id of a user whose access changed.
const SESSIONS_CHANNEL: &str = "sessions";

/// A wake-up for subscribers: new events may exist in `org` (or, when `None`, in any organization,
/// after the listener (re)connected and may have missed notifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wake {
    pub org: Option<OrgId>,
}

/// A wake-up for the progress streams of long operations: `id` changed (or, when `None`, any
/// may have, after the listener (re)connected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationWake {
    pub id: Option<OperationId>,
}

/// One `LISTEN` connection per process (for order events, operations and sessions), started by
/// the first subscriber or the first authenticated request, fanned out to every stream of the
/// process and to its cache of live sessions.
#[derive(Clone)]
pub struct EventHub {
    sender: broadcast::Sender<Wake>,
    operations: broadcast::Sender<OperationWake>,
    sessions: LiveSessions,
    started: Arc<Once>,
    /// Set when the server stops: streams never end by themselves, and a graceful shutdown waits
    /// for every open response.
    stopping: Arc<watch::Sender<bool>>,
}

/// What a stream listens to: wake-ups, and the server stopping.
#[derive(Debug)]
pub struct Subscription<W = Wake> {
    pub wakes: broadcast::Receiver<W>,
    pub stopping: watch::Receiver<bool>,
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHub").field("subscribers", &self.sender.receiver_count()).finish()
    }
}

impl EventHub {
    pub fn new(sessions: LiveSessions) -> Self {
        // A lagging subscriber loses wake-ups, not events: it re-reads the table on `Lagged`.
        let (sender, _) = broadcast::channel(1024);
        let (operations, _) = broadcast::channel(1024);
        let stopping = Arc::new(watch::Sender::new(false));
        Self { sender, operations, sessions, started: Arc::new(Once::new()), stopping }
    }

    /// Subscribes first, then starts the listener if needed: the listener's first wake-up (once it
    /// listens) reaches this subscriber, so nothing committed in between is missed.
    pub fn subscribe(&self, db: &PgPool) -> Subscription {
        let subscription = Subscription { wakes: self.sender.subscribe(), stopping: self.stopping.subscribe() };
        self.start(db);
        subscription
    }

    /// Like [`EventHub::subscribe`], for changes of long operations.
    pub fn subscribe_operations(&self, db: &PgPool) -> Subscription<OperationWake> {
        let subscription = Subscription { wakes: self.operations.subscribe(), stopping: self.stopping.subscribe() };
        self.start(db);
        subscription
    }

    /// Starts the listener unless it runs already.
    pub fn start(&self, db: &PgPool) {
        self.started.call_once(|| {
            tokio::spawn(listen(db.clone(), self.clone()));
        });
    }

    /// Every subscriber reads again and the session cache starts over: notifications may have
    /// been missed.
    fn wake_all(&self) {
        self.sessions.forget_all(true);
        let _ = self.sender.send(Wake { org: None });
        let _ = self.operations.send(OperationWake { id: None });
    }

    /// Ends every open stream (clients reconnect elsewhere with `Last-Event-ID`).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }
}

async fn listen(db: PgPool, hub: EventHub) {
    loop {
        let outcome = listen_once(&db, &hub).await;
        // Deaf until it listens again: the session cache must not trust what it cannot hear revoked.
        hub.sessions.forget_all(false);
        match outcome {
            Ok(()) => return,
            Err(error) => tracing::warn!(%error, "event listener lost its connection; reconnecting"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Listens until the connection fails (`Err`) or the pool is closed (`Ok`, the process is stopping).
async fn listen_once(db: &PgPool, hub: &EventHub) -> sqlx::Result<()> {
    if db.is_closed() {
        return Ok(());
    }
    let mut listener = PgListener::connect_with(db).await?;
    listener.listen_all([CHANNEL, OPERATIONS_CHANNEL, SESSIONS_CHANNEL]).await?;
    // Anything committed before LISTEN took effect is found by this re-read.
    hub.wake_all();
    loop {
        match listener.try_recv().await? {
            Some(notification) => {
                // Both payloads are `org:rest`; unreadable ones wake everyone. No receivers is
                // fine: the listener stays up.
                let (org, rest) = notification.payload().split_once(':').unzip();
                if notification.channel() == SESSIONS_CHANNEL {
                    match uuid::Uuid::parse_str(notification.payload()) {
                        Ok(user) => hub.sessions.forget_user(UserId(user)),
                        Err(_) => hub.sessions.forget_all(true),
                    }
                } else if notification.channel() == OPERATIONS_CHANNEL {
                    let id = rest.and_then(|id| uuid::Uuid::parse_str(id).ok()).map(OperationId);
                    let _ = hub.operations.send(OperationWake { id });
                } else {
                    let org = org.and_then(|org| uuid::Uuid::parse_str(org).ok()).map(OrgId);
                    let _ = hub.sender.send(Wake { org });
                }
            }
            // The connection dropped and was re-established: notifications may have been lost.
            None => hub.wake_all(),
        }
    }
}
