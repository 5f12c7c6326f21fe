//! The scheduler, run in every process that runs jobs: claims the current slot of each task and
//! re-queues runs whose lease ran out. And the periodic job itself: runs one task for one slot.

use super::runs::{self, Run};
use super::{Task, cleanup, sla, summary};
use crate::notifications::queues::{Periodic, PeriodicQueue, Queues};
use crate::state::AppState;
use apalis::prelude::TaskSink;
use chrono::{DateTime, Utc};
use std::future::Future;
use std::time::Duration;

/// How often the scheduler looks for due slots: well under the shortest cadence.
const SCHEDULER_TICK: Duration = Duration::from_secs(1);
/// Overdue runs queued again per tick.
const OVERDUE_BATCH: i64 = 100;

/// One round: claims the slot `now` falls in for every task (the runs another scheduler claimed
/// first are left to it) and takes the runs whose lease ran out, then queues them all. When the
/// queue refuses, the transaction rolls back and the next round tries again. Answers what it queued.
pub async fn schedule(state: &AppState, queue: &mut PeriodicQueue, now: DateTime<Utc>) -> anyhow::Result<Vec<Run>> {
    let wanted: Vec<Run> = Task::ALL.into_iter().map(|task| Run { task, slot: task.slot(now) }).collect();
    let mut tx = state.db.begin().await?;
    let mut due = runs::claim(&mut tx, &wanted, now).await?;
    due.extend(runs::take_overdue(&mut tx, now, state.settings.job_lease(), OVERDUE_BATCH).await?);
    if !due.is_empty() {
        let jobs = due.iter().map(|run| Periodic { task: run.task, slot: run.slot }).collect();
        queue.push_bulk(jobs).await.map_err(|error| anyhow::anyhow!("pushing periodic jobs: {error}"))?;
    }
    // Should this commit fail, the jobs find no run of theirs and do nothing.
    tx.commit().await?;
    Ok(due)
}

/// Schedules until `stop` completes. Every process runs one; the slots' rows decide who queues.
pub async fn run_scheduler(state: AppState, mut queue: PeriodicQueue, stop: impl Future<Output = ()>) {
    let scheduler = async {
        loop {
            match schedule(&state, &mut queue, Utc::now()).await {
                Ok(queued) if !queued.is_empty() => tracing::debug!(?queued, "periodic runs queued"),
                Ok(_) => {}
                Err(error) => tracing::warn!(error = format!("{error:#}"), "scheduling periodic runs failed"),
            }
            tokio::time::sleep(SCHEDULER_TICK).await;
        }
    };
    tokio::select! {
        () = scheduler => {}
        () = stop => {}
    }
}

/// The periodic job: runs the task unless its run is already finished, and records how it went.
/// A failure is recorded and left to the lease: the scheduler queues the run again later, up to
/// `runs::MAX_ATTEMPTS` times.
pub async fn run(state: &AppState, queues: &mut Queues, run: Run, now: DateTime<Utc>) -> anyhow::Result<()> {
    let task = run.task.as_str();
    if !runs::start(&state.db, run, now).await? {
        metrics::counter!("periodic_runs_total", "task" => task, "outcome" => "skipped").increment(1);
        return Ok(());
    }
    match Box::pin(perform(state, queues, run.task, now)).await {
        Ok(detail) => {
            let finished = Utc::now();
            runs::finish(&state.db, run, finished, &detail).await?;
            metrics::counter!("periodic_runs_total", "task" => task, "outcome" => "done").increment(1);
            metrics::gauge!("periodic_last_success_timestamp_seconds", "task" => task)
                .set(finished.timestamp_millis() as f64 / 1000.0);
            tracing::debug!(task, %detail, "periodic run done");
            Ok(())
        }
        Err(error) => {
            let message = format!("{error:#}");
            let given_up = runs::fail(&state.db, run, Utc::now(), &message).await?;
            metrics::counter!("periodic_runs_total", "task" => task, "outcome" => "failed").increment(1);
            tracing::error!(task, slot = %run.slot, given_up, error = message, "periodic run failed");
            Err(error)
        }
    }
}

/// Does the task's work as of `now`; answers a line for `periodic_runs.detail`.
async fn perform(state: &AppState, queues: &mut Queues, task: Task, now: DateTime<Utc>) -> anyhow::Result<String> {
    Ok(match task {
        Task::OfferExpiry => {
            let orders = crate::offers::service::expire(state, now).await?;
            format!("{orders} orders without a taker")
        }
        Task::RecurringGeneration => {
            let report = crate::recurring::service::generate(state, None, now).await?;
            format!("{} orders created, {} left unassigned", report.orders_created, report.left_unassigned)
        }
        Task::SlaScan => {
            let raised = sla::scan(state, now).await?;
            format!("{} at risk, {} breached", raised.at_risk, raised.breached)
        }
        Task::DailySummary => {
            let sent = summary::send_due(state, &mut queues.deliver, now).await?;
            format!("{sent} organizations summarized")
        }
        Task::CleanUp => format!("{:?}", cleanup::clean(state, now).await?),
    })
}
