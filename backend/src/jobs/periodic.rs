//! The periodic job: runs one task for one slot by calling its area's service.

use super::queues::Queues;
use crate::orders::sla;
use crate::periodic::repo::{self as runs, Run};
use crate::periodic::{Task, cleanup, summary};
use crate::state::AppState;
use chrono::{DateTime, Utc};

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
