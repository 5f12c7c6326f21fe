//! From PostgreSQL to the queues: the relay moves outbox rows into the announce queue and hands
//! over deliveries and long operations whose jobs were lost (or, for an operation, not yet queued).
//! Delivery is at least once: rows are marked relayed only once the queue took them, stay until
//! their job is done, and every job is idempotent.

use super::queues::{self, Announce, Operate, Queues};
use super::{deliveries, repo};
use crate::state::AppState;
use apalis::prelude::TaskSink;
use std::future::Future;
use std::time::Duration;

/// Outbox rows moved per transaction.
const RELAY_BATCH: i64 = 200;
/// Jobs waiting in a queue above which the relay leaves work in PostgreSQL: apalis-redis moves
/// every due job in one Lua call, which fails beyond about 8,000, so a backlog waits in PostgreSQL.
const QUEUE_HIGH_WATER: usize = 2_000;
/// How long the relay rests when there is nothing to move: the added latency of a quiet system.
const RELAY_IDLE: Duration = Duration::from_millis(50);
/// How long it waits before trying again after the queue or the database failed.
const RELAY_RETRY: Duration = Duration::from_secs(1);

/// What the relay looks after: the outbox, overdue deliveries and stranded operations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Relayed {
    pub events: usize,
    pub deliveries: usize,
    pub operations: usize,
}

/// One round: a batch of outbox rows to the announce queue, a batch of overdue deliveries to the
/// deliver queue, and new or stranded operations to the operations queue. When a queue refuses,
/// the transaction rolls back and the rows stay.
pub async fn relay_batch(state: &AppState, queues: &mut Queues) -> anyhow::Result<Relayed> {
    let grace = state.settings.job_lease();
    let mut relayed = Relayed::default();
    let waiting = queues::waiting(&mut queues.announce).await?;
    metrics::gauge!("job_queue_waiting", "queue" => "announce").set(waiting as f64);
    if waiting < QUEUE_HIGH_WATER {
        let mut tx = state.db.begin().await?;
        let events = repo::take_outbox(&mut tx, grace, RELAY_BATCH).await?;
        if !events.is_empty() {
            let jobs = events.iter().map(|&event_id| Announce { event_id }).collect();
            queues.announce.push_bulk(jobs).await.map_err(|error| anyhow::anyhow!("pushing announce jobs: {error}"))?;
            // Should this commit fail, the jobs are queued twice at worst; announcing is idempotent.
            tx.commit().await?;
            relayed.events = events.len();
        }
    }
    let waiting = queues::waiting(&mut queues.deliver).await?;
    metrics::gauge!("job_queue_waiting", "queue" => "deliver").set(waiting as f64);
    if waiting < QUEUE_HIGH_WATER {
        let mut tx = state.db.begin().await?;
        let overdue = deliveries::take_overdue(&mut *tx, grace, RELAY_BATCH).await?;
        queues::push_deliveries(&mut queues.deliver, &overdue).await?;
        tx.commit().await?;
        relayed.deliveries = overdue.len();
    }
    let waiting = queues::waiting(&mut queues.operations).await?;
    metrics::gauge!("job_queue_waiting", "queue" => "operations").set(waiting as f64);
    if waiting < QUEUE_HIGH_WATER {
        let mut tx = state.db.begin().await?;
        let stranded = crate::operations::repo::take_stranded(&mut *tx, grace, RELAY_BATCH).await?;
        if !stranded.is_empty() {
            let jobs = stranded.iter().map(|&operation_id| Operate { operation_id }).collect();
            queues
                .operations
                .push_bulk(jobs)
                .await
                .map_err(|error| anyhow::anyhow!("pushing operation jobs: {error}"))?;
            tx.commit().await?;
            relayed.operations = stranded.len();
        }
    }
    Ok(relayed)
}

/// Relays until `stop` completes. Several relays may run (one per process): rows are taken with
/// `SKIP LOCKED`, so each goes to the queue through one of them.
pub async fn run_relay(state: AppState, mut queues: Queues, stop: impl Future<Output = ()>) {
    let relay = async {
        loop {
            match relay_batch(&state, &mut queues).await {
                Ok(Relayed { events: 0, deliveries: 0, operations: 0 }) => tokio::time::sleep(RELAY_IDLE).await,
                Ok(moved) => tracing::debug!(?moved, "relayed"),
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "relay failed; the work waits in PostgreSQL");
                    tokio::time::sleep(RELAY_RETRY).await;
                }
            }
        }
    };
    tokio::select! {
        () = relay => {}
        () = stop => {}
    }
}

/// Runs the relay, the periodic scheduler and the workers until `stop`. Redis being down at start
/// only delays them: meanwhile order actions go on and their events wait in the outbox.
pub async fn run_jobs(state: AppState, stop: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stopping.send(true);
    });
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stopped| *stopped).await;
    };
    let queues = loop {
        match Queues::connect(&state).await {
            Ok(queues) => break queues,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "the job queues are unreachable; retrying");
                tokio::select! {
                    () = tokio::time::sleep(RELAY_RETRY) => {}
                    () = until_stopped(stopped.clone()) => return Ok(()),
                }
            }
        }
    };
    let relay = run_relay(state.clone(), queues.clone(), until_stopped(stopped.clone()));
    let scheduler = crate::periodic::scheduler::run_scheduler(
        state.clone(),
        queues.periodic.clone(),
        until_stopped(stopped.clone()),
    );
    let workers = async {
        // A worker ends when its Redis connection fails (Redis restarted, say); new ones take over
        // once Redis answers, and the relay's sweep hands over the jobs Redis lost.
        loop {
            let worked = queues::run_workers(state.clone(), queues.clone(), until_stopped(stopped.clone())).await;
            if *stopped.borrow() {
                return worked;
            }
            let error = worked.err().map(|error| format!("{error:#}")).unwrap_or_default();
            tracing::warn!(error, "the job workers stopped; starting new ones");
            tokio::select! {
                () = tokio::time::sleep(RELAY_RETRY) => {}
                () = until_stopped(stopped.clone()) => return Ok(()),
            }
        }
    };
    // Boxed: inline, the three futures would make every caller's future too large.
    let ((), (), worked) = tokio::join!(Box::pin(relay), Box::pin(scheduler), workers);
    worked
}
