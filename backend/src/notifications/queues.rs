//! The job queues on Redis (apalis) and their workers: `announce` turns an order event into inbox
//! entries and deliveries and sends those due now, `deliver` sends one later or retried delivery, `periodic` runs a periodic task for
//! one time slot, `operations` works on a long operation (`crate::operations`). PostgreSQL holds
//! what is owed (outbox rows, pending deliveries, periodic runs, unfinished operations), so a job
//! Redis loses is handed over again by the relay or the periodic scheduler.

use super::deliveries::Due;
use crate::config::Settings;
use crate::periodic::Task;
use crate::periodic::runs::Run;
use crate::state::AppState;
use anyhow::Context;
use apalis::layers::retry::RetryPolicy;
use apalis::prelude::*;
use apalis_redis::{Config, RedisStorage};
use chrono::{DateTime, Utc};
use domain::OperationId;
use futures_util::stream;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::Duration;
use tower::retry::backoff::{ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use tower::util::rng::HasherRng;
use uuid::Uuid;

/// Job: tell everyone an order event concerns about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announce {
    pub event_id: i64,
}

/// Job: make one attempt at one delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deliver {
    pub delivery_id: Uuid,
}

/// Job: run a periodic task for the time slot starting at `slot` (see `crate::periodic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Periodic {
    pub task: Task,
    pub slot: DateTime<Utc>,
}

/// Job: work on a long operation, chunk by chunk, for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operate {
    pub operation_id: OperationId,
}

pub type AnnounceQueue = RedisStorage<Announce>;
pub type DeliverQueue = RedisStorage<Deliver>;
pub type PeriodicQueue = RedisStorage<Periodic>;
pub type OperationQueue = RedisStorage<Operate>;

/// The queues of this deployment (their Redis key prefix keeps deployments and tests apart).
#[derive(Debug, Clone)]
pub struct Queues {
    pub announce: AnnounceQueue,
    pub deliver: DeliverQueue,
    pub periodic: PeriodicQueue,
    pub operations: OperationQueue,
}

/// How often an idle worker asks Redis for jobs; by default apalis-redis asks only at each heartbeat.
pub const WORKER_POLL: Duration = Duration::from_millis(50);
/// A worker proves it lives this often; after this many missed beats, another worker takes over the
/// jobs it held (a crashed process's jobs are resumed about 15 s later).
const HEARTBEAT: Duration = Duration::from_secs(5);
const MISSED_HEARTBEATS: usize = 3;
/// Jobs run at once per worker process and queue.
pub const WORKER_CONCURRENCY: usize = 8;
/// Long operations run at once per worker process: each is a stream of database transactions, so
/// a few at a time leave the pool to the API.
const OPERATION_CONCURRENCY: usize = 2;
/// In-process attempts of a job beyond the first, for failures of our own (the database or Redis
/// blinked). A delivery's own retries are scheduled in PostgreSQL, not here.
const JOB_RETRIES: usize = 3;

impl Queues {
    pub async fn connect(state: &AppState) -> anyhow::Result<Self> {
        let connection = apalis_redis::connect(state.settings.redis_url.expose_secret())
            .await
            .context("connecting the job queues to Redis (FIELDFLOW_REDIS_URL)")?;
        Ok(Self {
            announce: RedisStorage::new(connection.clone()).with_config(queue_config(&state.settings, "announce")),
            deliver: RedisStorage::new(connection.clone()).with_config(queue_config(&state.settings, "deliver")),
            periodic: RedisStorage::new(connection.clone()).with_config(queue_config(&state.settings, "periodic")),
            operations: RedisStorage::new(connection).with_config(queue_config(&state.settings, "operations")),
        })
    }
}

/// How every queue of this deployment is set up: its key under the deployment's prefix, and how
/// its workers prove they live.
pub fn queue_config(settings: &Settings, name: &str) -> Config {
    Config::default()
        .queue(format!("{}{name}", settings.redis_key_prefix))
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS)
}

/// Jobs waiting in a queue's sorted set: due ones and scheduled ones.
pub async fn waiting<Args>(queue: &mut RedisStorage<Args>) -> anyhow::Result<usize> {
    let key = queue.get_config().scheduled_jobs_set();
    Ok(redis::cmd("ZCARD").arg(key).query_async(queue.get_connection()).await?)
}

/// Hands deliveries to the deliver queue, each to run when it is due.
pub async fn push_deliveries(queue: &mut DeliverQueue, due: &[Due]) -> anyhow::Result<()> {
    if due.is_empty() {
        return Ok(());
    }
    // Collected first: a borrowing iterator held across the await would make the future not `Send`.
    let tasks: Vec<_> = due
        .iter()
        .map(|d| {
            let at = u64::try_from(d.at.timestamp()).unwrap_or_default();
            TaskBuilder::new(Deliver { delivery_id: d.id }).run_at_timestamp(at).build()
        })
        .collect();
    queue.push_all(stream::iter(tasks)).await.map_err(|error| anyhow::anyhow!("pushing deliver jobs: {error}"))
}

/// A name no other worker process shares, so the queue can tell whose jobs a crash orphaned.
fn worker_name(queue: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".to_owned());
    format!("fieldflow-{queue}-{host}-{}-{}", std::process::id(), Uuid::now_v7().simple())
}

fn backoff() -> anyhow::Result<ExponentialBackoff> {
    Ok(ExponentialBackoffMaker::new(Duration::from_millis(200), Duration::from_secs(10), 0.5, HasherRng::new())
        .context("the job backoff")?
        .make_backoff())
}

fn job_outcome(queue: &'static str, outcome: &Result<(), BoxDynError>) {
    let label = if outcome.is_ok() { "done" } else { "failed" };
    metrics::counter!("jobs_total", "queue" => queue, "outcome" => label).increment(1);
}

async fn announce(job: Announce, state: Data<AppState>, queues: Data<Queues>) -> Result<(), BoxDynError> {
    let (state, mut deliver) = (AppState::clone(&state), queues.deliver.clone());
    let outcome = sending(async move { super::service::announce(&state, &mut deliver, job.event_id).await }).await;
    job_outcome("announce", &outcome);
    outcome
}

async fn deliver(job: Deliver, state: Data<AppState>, queues: Data<Queues>) -> Result<(), BoxDynError> {
    let (state, mut deliver) = (AppState::clone(&state), queues.deliver.clone());
    let outcome = sending(async move { super::deliver::attempt(&state, &mut deliver, job.delivery_id).await }).await;
    job_outcome("deliver", &outcome);
    outcome
}

/// Runs a job that sends messages as a task of its own: a worker whose Redis connection fails
/// drops the futures of its jobs, and an attempt dropped between the send and its record would be
/// sent again once its lease ran out.
async fn sending<T, E>(job: impl Future<Output = Result<T, E>> + Send + 'static) -> Result<(), BoxDynError>
where
    T: Send + 'static,
    E: Into<BoxDynError> + Send + 'static,
{
    match tokio::spawn(Box::pin(job)).await {
        Ok(done) => done.map(drop).map_err(Into::into),
        Err(stopped) => Err(stopped.into()),
    }
}

/// A failed periodic run is not retried in process: its lease runs out and the scheduler queues it
/// again, so the record in PostgreSQL counts every attempt.
async fn periodic(job: Periodic, state: Data<AppState>, queues: Data<Queues>) -> Result<(), BoxDynError> {
    let mut queues = Queues::clone(&queues);
    let run = Run { task: job.task, slot: job.slot };
    let outcome = crate::periodic::scheduler::run(&state, &mut queues, run, Utc::now()).await.map_err(Into::into);
    job_outcome("periodic", &outcome);
    outcome
}

async fn operate(job: Operate, state: Data<AppState>, queues: Data<Queues>) -> Result<(), BoxDynError> {
    let mut queues = (*queues).clone();
    let outcome = crate::operations::runner::run(&state, &mut queues, job.operation_id).await.map_err(Into::into);
    job_outcome("operations", &outcome);
    outcome
}

/// Runs the queues' workers until `stop` completes, then finishes the jobs in flight.
pub async fn run_workers(
    state: AppState,
    queues: Queues,
    stop: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let announcer = WorkerBuilder::new(worker_name("announce"))
        .backend(queues.announce.clone().poll_with_interval(WORKER_POLL))
        .data(state.clone())
        .data(queues.clone())
        .concurrency(WORKER_CONCURRENCY)
        .retry(RetryPolicy::retries(JOB_RETRIES).with_backoff(backoff()?))
        .build(announce);
    let deliverer = WorkerBuilder::new(worker_name("deliver"))
        .backend(queues.deliver.clone().poll_with_interval(WORKER_POLL))
        .data(state.clone())
        .data(queues.clone())
        .concurrency(WORKER_CONCURRENCY)
        .retry(RetryPolicy::retries(JOB_RETRIES).with_backoff(backoff()?))
        .build(deliver);
    let periodic_worker = WorkerBuilder::new(worker_name("periodic"))
        .backend(queues.periodic.clone().poll_with_interval(WORKER_POLL))
        .data(state.clone())
        .data(queues.clone())
        .concurrency(WORKER_CONCURRENCY)
        .build(periodic);
    let operator = WorkerBuilder::new(worker_name("operations"))
        .backend(queues.operations.clone().poll_with_interval(WORKER_POLL))
        .data(state)
        .data(queues)
        .concurrency(OPERATION_CONCURRENCY)
        .retry(RetryPolicy::retries(JOB_RETRIES).with_backoff(backoff()?))
        .build(operate);
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        stop.await;
        let _ = stopping.send(true);
    });
    let until = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stopped| *stopped).await;
        Ok::<(), std::io::Error>(())
    };
    // Boxed: the workers' futures inline would make every caller's future tens of kilobytes.
    let (announced, delivered, ran, operated) = tokio::join!(
        Box::pin(announcer.run_until(until(stopped.clone()))),
        Box::pin(deliverer.run_until(until(stopped.clone()))),
        Box::pin(periodic_worker.run_until(until(stopped.clone()))),
        Box::pin(operator.run_until(until(stopped)))
    );
    announced.map_err(|error| anyhow::anyhow!("the announce worker stopped: {error}"))?;
    delivered.map_err(|error| anyhow::anyhow!("the deliver worker stopped: {error}"))?;
    ran.map_err(|error| anyhow::anyhow!("the periodic worker stopped: {error}"))?;
    operated.map_err(|error| anyhow::anyhow!("the operations worker stopped: {error}"))
}
