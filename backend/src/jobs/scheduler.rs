//! The periodic scheduler, run in every process that runs jobs: claims the current slot of each
//! task and re-queues runs whose lease ran out (see `crate::periodic`).

use super::queues::{Periodic, PeriodicQueue};
use crate::periodic::Task;
use crate::periodic::repo::{self as runs, Run};
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
