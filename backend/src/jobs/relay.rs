//! From PostgreSQL to the queues: the relay moves outbox rows into the announce queue and hands
//! over deliveries and long operations whose jobs were lost (or, for an operation, not yet queued).
//! Delivery is at least once: rows are marked relayed only once the queue took them, stay until
//! their job is done, and every job is idempotent.

use super::queues::{self, Announce, Operate, Queues};
use crate::notifications::{deliveries_repo as deliveries, repo, stage_latency};
use crate::state::AppState;
use apalis::prelude::TaskSink;
use apalis_redis::RedisStorage;
use std::future::Future;
use std::time::Duration;
use tokio::sync::broadcast;

/// Outbox rows moved per transaction.
const RELAY_BATCH: i64 = 200;
/// Jobs waiting in a queue above which the relay leaves work in PostgreSQL: apalis-redis moves
/// every due job in one Lua call, which fails beyond about 8,000, so a backlog waits in PostgreSQL.
const QUEUE_HIGH_WATER: usize = 2_000;
/// How long the relay gathers wake-ups before it moves what they announced: under load, one round
/// moves the events of many transactions.
const RELAY_GATHER: Duration = Duration::from_millis(10);
/// How often the relay looks for overdue deliveries and stranded operations, and for events whose
/// wake-up it missed: nothing notifies of a lost job.
const RELAY_SWEEP: Duration = Duration::from_secs(1);
/// How long it waits before trying again after the queue or the database failed.
const RELAY_RETRY: Duration = Duration::from_secs(1);

/// What the relay looks after: the outbox, overdue deliveries and stranded operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relayed {
    pub events: usize,
    pub deliveries: usize,
    pub operations: usize,
}

/// One round of everything: a batch of outbox rows to the announce queue, a batch of overdue
/// deliveries to the deliver queue, and new or stranded operations to the operations queue. When a
/// queue refuses, the transaction rolls back and the rows stay.
pub async fn relay_batch(state: &AppState, queues: &mut Queues) -> anyhow::Result<Relayed> {
    Ok(Relayed {
        events: relay_events(state, queues).await?,
        deliveries: relay_overdue(state, queues).await?,
        operations: relay_operations(state, queues).await?,
    })
}

async fn relay_events(state: &AppState, queues: &mut Queues) -> anyhow::Result<usize> {
    if !below_high_water(&mut queues.announce, "announce").await? {
        return Ok(0);
    }
    let mut tx = state.db.begin().await?;
    let events = repo::take_outbox(&mut tx, state.settings.job_lease(), RELAY_BATCH).await?;
    if events.is_empty() {
        return Ok(0);
    }
    let jobs = events.iter().map(|event| Announce { event_id: event.event_id }).collect();
    queues.announce.push_bulk(jobs).await.map_err(|error| anyhow::anyhow!("pushing announce jobs: {error}"))?;
    // Should this commit fail, the jobs are queued twice at worst; announcing is idempotent.
    tx.commit().await?;
    for event in &events {
        stage_latency("relayed", event.recorded_at);
    }
    Ok(events.len())
}

async fn relay_overdue(state: &AppState, queues: &mut Queues) -> anyhow::Result<usize> {
    if !below_high_water(&mut queues.deliver, "deliver").await? {
        return Ok(0);
    }
    let mut tx = state.db.begin().await?;
    let overdue = deliveries::take_overdue(&mut *tx, state.settings.job_lease(), RELAY_BATCH).await?;
    queues::push_deliveries(&mut queues.deliver, &overdue).await?;
    tx.commit().await?;
    Ok(overdue.len())
}

async fn relay_operations(state: &AppState, queues: &mut Queues) -> anyhow::Result<usize> {
    if !below_high_water(&mut queues.operations, "operations").await? {
        return Ok(0);
    }
    let mut tx = state.db.begin().await?;
    let stranded = crate::operations::repo::take_stranded(&mut *tx, state.settings.job_lease(), RELAY_BATCH).await?;
    if stranded.is_empty() {
        return Ok(0);
    }
    let jobs = stranded.iter().map(|&operation_id| Operate { operation_id }).collect();
    queues.operations.push_bulk(jobs).await.map_err(|error| anyhow::anyhow!("pushing operation jobs: {error}"))?;
    tx.commit().await?;
    Ok(stranded.len())
}

/// Whether the queue has room, recording how many jobs wait in it.
async fn below_high_water<Args>(queue: &mut RedisStorage<Args>, name: &'static str) -> anyhow::Result<bool> {
    let waiting = queues::waiting(queue).await?;
    metrics::gauge!("job_queue_waiting", "queue" => name).set(waiting as f64);
    Ok(waiting < QUEUE_HIGH_WATER)
}

/// What woke the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Woken {
    Events,
    Operations,
    Sweep,
}

/// Relays until `stop` completes. An event's transaction wakes it (`LISTEN` on the `order_events`
/// and `operations` notifications), so an event is in the queue milliseconds after its commit;
/// a sweep each [`RELAY_SWEEP`] finds what nothing announced. Several relays may run (one per
/// process): rows are taken with `SKIP LOCKED`, so each goes to the queue through one of them.
pub async fn run_relay(state: AppState, mut queues: Queues, stop: impl Future<Output = ()>) {
    let mut events = state.events.subscribe(&state.db).wakes;
    let mut operations = state.events.subscribe_operations(&state.db).wakes;
    let relay = async {
        let mut woken = Woken::Sweep;
        loop {
            match relay_round(&state, &mut queues, woken).await {
                // A full batch: more may be waiting.
                Ok(true) => woken = Woken::Events,
                Ok(false) => {
                    woken = tokio::select! {
                        () = wake(&mut events) => Woken::Events,
                        () = wake(&mut operations) => Woken::Operations,
                        () = tokio::time::sleep(RELAY_SWEEP) => Woken::Sweep,
                    };
                    if woken != Woken::Sweep {
                        tokio::time::sleep(RELAY_GATHER).await;
                        drain(&mut events);
                        drain(&mut operations);
                    }
                }
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "relay failed; the work waits in PostgreSQL");
                    tokio::time::sleep(RELAY_RETRY).await;
                    woken = Woken::Sweep;
                }
            }
        }
    };
    tokio::select! {
        () = relay => {}
        () = stop => {}
    }
}

/// Moves what the wake-up announced; true when a full batch of events moved.
async fn relay_round(state: &AppState, queues: &mut Queues, woken: Woken) -> anyhow::Result<bool> {
    let events = relay_events(state, queues).await?;
    if woken != Woken::Events {
        relay_operations(state, queues).await?;
    }
    if woken == Woken::Sweep {
        relay_overdue(state, queues).await?;
    }
    Ok(events == usize::try_from(RELAY_BATCH).unwrap_or(usize::MAX))
}

/// Completes at the next wake-up; a lag counts as one (the relay reads the table, not the
/// notifications), and a closed hub never wakes, leaving the sweep.
async fn wake<T: Clone>(wakes: &mut broadcast::Receiver<T>) {
    if let Err(broadcast::error::RecvError::Closed) = wakes.recv().await {
        std::future::pending::<()>().await;
    }
}

/// Discards the wake-ups gathered meanwhile: the coming round moves what they announced.
fn drain<T: Clone>(wakes: &mut broadcast::Receiver<T>) {
    while !matches!(
        wakes.try_recv(),
        Err(broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed)
    ) {}
}
