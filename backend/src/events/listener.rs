use domain::OrgId;
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use std::sync::{Arc, Once};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// The channel the `order_events` insert trigger notifies.
const CHANNEL: &str = "order_events";

/// A wake-up for subscribers: new events may exist in `org` (or, when `None`, in any organization,
/// after the listener (re)connected and may have missed notifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wake {
    pub org: Option<OrgId>,
}

/// One `LISTEN` connection per process, started by the first subscriber, fanned out to every
/// stream of the process.
#[derive(Clone)]
pub struct EventHub {
    sender: broadcast::Sender<Wake>,
    started: Arc<Once>,
    /// Set when the server stops: streams never end by themselves, and a graceful shutdown waits
    /// for every open response.
    stopping: Arc<watch::Sender<bool>>,
}

/// What a stream listens to: wake-ups, and the server stopping.
#[derive(Debug)]
pub struct Subscription {
    pub wakes: broadcast::Receiver<Wake>,
    pub stopping: watch::Receiver<bool>,
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHub").field("subscribers", &self.sender.receiver_count()).finish()
    }
}

impl Default for EventHub {
    fn default() -> Self {
        // A lagging subscriber loses wake-ups, not events: it re-reads the table on `Lagged`.
        let (sender, _) = broadcast::channel(1024);
        Self { sender, started: Arc::new(Once::new()), stopping: Arc::new(watch::Sender::new(false)) }
    }
}

impl EventHub {
    /// Subscribes first, then starts the listener if needed: the listener's first wake-up (once it
    /// listens) reaches this subscriber, so nothing committed in between is missed.
    pub fn subscribe(&self, db: &PgPool) -> Subscription {
        let subscription = Subscription { wakes: self.sender.subscribe(), stopping: self.stopping.subscribe() };
        self.started.call_once(|| {
            tokio::spawn(listen(db.clone(), self.sender.clone()));
        });
        subscription
    }

    /// Ends every open stream (clients reconnect elsewhere with `Last-Event-ID`).
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }
}

async fn listen(db: PgPool, sender: broadcast::Sender<Wake>) {
    loop {
        match listen_once(&db, &sender).await {
            Ok(()) => return,
            Err(error) => tracing::warn!(%error, "order event listener lost its connection; reconnecting"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Listens until the connection fails (`Err`) or the pool is closed (`Ok`, the process is stopping).
async fn listen_once(db: &PgPool, sender: &broadcast::Sender<Wake>) -> sqlx::Result<()> {
    if db.is_closed() {
        return Ok(());
    }
    let mut listener = PgListener::connect_with(db).await?;
    listener.listen(CHANNEL).await?;
    // Anything committed before LISTEN took effect is found by this re-read.
    let _ = sender.send(Wake { org: None });
    loop {
        match listener.try_recv().await? {
            Some(notification) => {
                let org = notification
                    .payload()
                    .split_once(':')
                    .and_then(|(org, _)| uuid::Uuid::parse_str(org).ok())
                    .map(OrgId);
                // Unreadable payload: wake everyone. No receivers is fine: the listener stays up.
                let _ = sender.send(Wake { org });
            }
            // The connection dropped and was re-established: notifications may have been lost.
            None => {
                let _ = sender.send(Wake { org: None });
            }
        }
    }
}
