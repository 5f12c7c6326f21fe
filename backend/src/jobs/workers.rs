//! The workers: each job is a thin adapter that calls its area's service, as a route does, and
//! counts how it went.

use super::queues::{Announce, Deliver, Operate, Periodic, Queues, WORKER_CONCURRENCY, WORKER_POLL};
use super::stop::StopSignal;
use crate::periodic::repo::Run;
use crate::state::AppState;
use anyhow::Context;
use apalis::layers::retry::RetryPolicy;
use apalis::prelude::*;
use chrono::Utc;
use std::future::Future;
use std::time::Duration;
use tower::retry::backoff::{ExponentialBackoff, ExponentialBackoffMaker, MakeBackoff};
use tower::util::rng::HasherRng;
use uuid::Uuid;

/// Long operations run at once per worker process: each is a stream of database transactions, so
/// a few at a time leave the pool to the API.
const OPERATION_CONCURRENCY: usize = 2;
/// In-process attempts of a job beyond the first, for failures of our own (the database or Redis
/// blinked). A delivery's own retries are scheduled in PostgreSQL, not here.
const JOB_RETRIES: usize = 3;

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
    let outcome =
        sending(async move { crate::notifications::service::announce(&state, &mut deliver, job.event_id).await }).await;
    job_outcome("announce", &outcome);
    outcome
}

async fn deliver(job: Deliver, state: Data<AppState>, queues: Data<Queues>) -> Result<(), BoxDynError> {
    let (state, mut deliver) = (AppState::clone(&state), queues.deliver.clone());
    let outcome =
        sending(async move { crate::notifications::deliver::attempt(&state, &mut deliver, job.delivery_id).await })
            .await;
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
    let outcome = super::periodic::run(&state, &mut queues, run, Utc::now()).await.map_err(Into::into);
    job_outcome("periodic", &outcome);
    outcome
}

async fn operate(job: Operate, state: Data<AppState>, queues: Data<Queues>) -> Result<(), BoxDynError> {
    let mut queues = (*queues).clone();
    let outcome = crate::operations::runner::run(&state, &mut queues, job.operation_id).await.map_err(Into::into);
    job_outcome("operations", &outcome);
    outcome
}

/// Runs the queues' workers until `stop` fires, then finishes the jobs in flight.
pub async fn run_workers(state: AppState, queues: Queues, stop: StopSignal) -> anyhow::Result<()> {
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
    // apalis wants the stop future to answer an io::Result.
    let until = |stop: &StopSignal| {
        let stopped = stop.stopped();
        async move {
            stopped.await;
            Ok::<(), std::io::Error>(())
        }
    };
    // Boxed: the workers' futures inline would make every caller's future tens of kilobytes.
    let (announced, delivered, ran, operated) = tokio::join!(
        Box::pin(announcer.run_until(until(&stop))),
        Box::pin(deliverer.run_until(until(&stop))),
        Box::pin(periodic_worker.run_until(until(&stop))),
        Box::pin(operator.run_until(until(&stop)))
    );
    announced.map_err(|error| anyhow::anyhow!("the announce worker stopped: {error}"))?;
    delivered.map_err(|error| anyhow::anyhow!("the deliver worker stopped: {error}"))?;
    ran.map_err(|error| anyhow::anyhow!("the periodic worker stopped: {error}"))?;
    operated.map_err(|error| anyhow::anyhow!("the operations worker stopped: {error}"))
}
