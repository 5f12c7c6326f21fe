//! From the outbox to the people: the relay moves outbox rows into the announce queue on Redis
//! (apalis), and workers run the announce jobs. Delivery is at least once: the relay deletes rows
//! only after the queue took them, and every job is idempotent.

use super::repo;
use crate::state::AppState;
use anyhow::Context;
use apalis::layers::retry::RetryPolicy;
use apalis::prelude::*;
use apalis_redis::{Config, RedisStorage};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::Duration;
use tower::retry::backoff::{ExponentialBackoffMaker, MakeBackoff};
use tower::util::rng::HasherRng;

/// Job: tell everyone an order event concerns about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announce {
    pub event_id: i64,
}

pub type AnnounceQueue = RedisStorage<Announce>;

/// Outbox rows moved per transaction.
const RELAY_BATCH: i64 = 200;
/// Jobs waiting in the queue above which the relay leaves events in the outbox: apalis-redis moves
/// every due job in one Lua call, which fails beyond about 8,000, so a backlog waits in PostgreSQL.
const QUEUE_HIGH_WATER: usize = 2_000;
/// How long the relay rests when the outbox is empty: the added latency of a quiet system.
const RELAY_IDLE: Duration = Duration::from_millis(50);
/// How long it waits before trying again after the queue or the database failed.
const RELAY_RETRY: Duration = Duration::from_secs(1);
/// How often an idle worker asks Redis for jobs; by default apalis-redis asks only at each heartbeat.
const WORKER_POLL: Duration = Duration::from_millis(50);
/// A worker proves it lives this often; after this many missed beats, another worker takes over the
/// jobs it held (a crashed process's jobs are resumed about 15 s later).
const HEARTBEAT: Duration = Duration::from_secs(5);
const MISSED_HEARTBEATS: usize = 3;
/// Announce jobs run at once per worker process.
const WORKER_CONCURRENCY: usize = 8;
/// Attempts of a job beyond the first, with capped exponential backoff and jitter between them.
const JOB_RETRIES: usize = 5;

/// The announce queue of this deployment (its Redis key prefix keeps deployments and tests apart).
pub async fn announce_queue(state: &AppState) -> anyhow::Result<AnnounceQueue> {
    let connection = apalis_redis::connect(state.settings.redis_url.expose_secret())
        .await
        .context("connecting the job queue to Redis (FIELDFLOW_REDIS_URL)")?;
    let config = Config::default()
        .queue(format!("{}announce", state.settings.redis_key_prefix))
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS);
    Ok(RedisStorage::new(connection).with_config(config))
}

/// Moves one batch of outbox rows into the queue; answers how many. When the queue refuses, the
/// transaction rolls back and the rows stay for the next attempt.
pub async fn relay_batch(state: &AppState, queue: &mut AnnounceQueue) -> anyhow::Result<usize> {
    let key = queue.get_config().scheduled_jobs_set();
    let waiting: usize = redis::cmd("ZCARD").arg(key).query_async(queue.get_connection()).await?;
    metrics::gauge!("announce_queue_waiting").set(waiting as f64);
    if waiting >= QUEUE_HIGH_WATER {
        return Ok(0);
    }
    let mut tx = state.db.begin().await?;
    let events = repo::take_outbox(&mut tx, RELAY_BATCH).await?;
    if events.is_empty() {
        return Ok(0);
    }
    let jobs = events.iter().map(|&event_id| Announce { event_id }).collect();
    queue.push_bulk(jobs).await.map_err(|error| anyhow::anyhow!("pushing announce jobs: {error}"))?;
    // Should this commit fail, the jobs are queued twice at worst; announcing is idempotent.
    tx.commit().await?;
    Ok(events.len())
}

/// Relays until `stop` completes. Several relays may run (one per process): rows are taken with
/// `SKIP LOCKED`, so each goes to the queue through one of them.
pub async fn run_relay(state: AppState, mut queue: AnnounceQueue, stop: impl Future<Output = ()>) {
    let relay = async {
        loop {
            match relay_batch(&state, &mut queue).await {
                Ok(0) => tokio::time::sleep(RELAY_IDLE).await,
                Ok(moved) => tracing::debug!(moved, "outbox relayed"),
                Err(error) => {
                    tracing::warn!(error = format!("{error:#}"), "outbox relay failed; the events wait in the outbox");
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

async fn announce(job: Announce, state: Data<AppState>) -> Result<(), BoxDynError> {
    let outcome = super::service::announce(&state, job.event_id).await;
    let label = if outcome.is_ok() { "done" } else { "failed" };
    metrics::counter!("announce_jobs_total", "outcome" => label).increment(1);
    outcome?;
    Ok(())
}

/// A name no other worker process shares, so the queue can tell whose jobs a crash orphaned.
fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".to_owned());
    format!("fieldflow-{host}-{}-{}", std::process::id(), uuid::Uuid::now_v7().simple())
}

/// Runs announce jobs until `stop` completes, then finishes the jobs in flight.
pub async fn run_worker(
    state: AppState,
    queue: AnnounceQueue,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let backoff =
        ExponentialBackoffMaker::new(Duration::from_millis(200), Duration::from_secs(30), 0.5, HasherRng::new())
            .context("the announce jobs' backoff")?
            .make_backoff();
    let worker = WorkerBuilder::new(worker_name())
        .backend(queue.poll_with_interval(WORKER_POLL))
        .data(state)
        .concurrency(WORKER_CONCURRENCY)
        .retry(RetryPolicy::retries(JOB_RETRIES).with_backoff(backoff))
        .build(announce);
    worker
        .run_until(async move {
            stop.await;
            Ok::<(), std::io::Error>(())
        })
        .await
        .map_err(|error| anyhow::anyhow!("the announce worker stopped: {error}"))
}

/// Runs the relay and an announce worker until `stop`. Redis being down at start only delays them:
/// meanwhile order actions go on and their events wait in the outbox.
pub async fn run_jobs(state: AppState, stop: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stopping.send(true);
    });
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stopped| *stopped).await;
    };
    let queue = loop {
        match announce_queue(&state).await {
            Ok(queue) => break queue,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "the job queue is unreachable; retrying");
                tokio::select! {
                    () = tokio::time::sleep(RELAY_RETRY) => {}
                    () = until_stopped(stopped.clone()) => return Ok(()),
                }
            }
        }
    };
    let relay = run_relay(state.clone(), queue.clone(), until_stopped(stopped.clone()));
    let worker = run_worker(state, queue, until_stopped(stopped));
    let ((), worked) = tokio::join!(relay, worker);
    worked
}
