//! Works on one operation: claim it for the lease, then chunk after chunk, each in one transaction
//! that locks the operation's row, reads the checkpoint, does the chunk's work and writes the next
//! checkpoint with the progress. A worker that dies loses at most the chunk it had not committed;
//! whoever claims the operation next (after the lease) starts from the last checkpoint.

use super::repo::{self, Locked, Progress};
use super::{broadcast, export, import};
use crate::jobs::queues::{Operate, Queues};
use crate::state::AppState;
use apalis::prelude::TaskSink;
use domain::OperationId;
use domain::api::operations::{OperationKind, OperationStatus};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A job works this long at most, then queues the rest as a new job: a shutdown waits for jobs in
/// flight, and other operations get their turn.
const TIME_SLICE: Duration = Duration::from_secs(20);
/// Claims in a row without progress (each a job that failed or a worker that died) before the
/// operation is given up as failed, rather than handed over for ever.
const MAX_STALLED_CLAIMS: i32 = 5;

/// What a kind's chunk came to.
#[derive(Debug)]
pub(super) enum Chunk {
    /// Progress; more chunks follow.
    More(Progress),
    /// The last chunk: progress, then the operation has succeeded.
    Last(Progress),
    /// The operation cannot succeed (its file is unreadable, its filter no longer valid).
    Failed(String),
}

/// What a worker keeps from one chunk to the next within a job (an import's parsed file).
#[derive(Debug, Default)]
pub struct Memo {
    pub(super) import: Option<import::Parsed>,
}

/// One job's work on an operation: as many chunks as fit in the time slice.
pub async fn run(state: &AppState, queues: &mut Queues, id: OperationId) -> anyhow::Result<()> {
    let lease = state.settings.job_lease();
    let Some((holder, stalled)) = repo::claim(&state.db, id, lease).await? else {
        // Finished, gone, or another worker holds it: this job has nothing to do.
        return Ok(());
    };
    if stalled > MAX_STALLED_CLAIMS {
        let mut tx = state.db.begin().await?;
        let error = format!("gave up after {} attempts that made no progress", stalled - 1);
        repo::finish(&mut tx, id, OperationStatus::Failed, Some(&error)).await?;
        tx.commit().await?;
        return Ok(());
    }
    let started = Instant::now();
    let mut memo = Memo::default();
    loop {
        match Box::pin(step(state, queues, id, holder, &mut memo)).await {
            Ok(true) if started.elapsed() < TIME_SLICE => {}
            Ok(true) => {
                repo::release(&state.db, id, holder, true).await?;
                queues
                    .operations
                    .push(Operate { operation_id: id })
                    .await
                    .map_err(|error| anyhow::anyhow!("queueing the rest of operation {id}: {error}"))?;
                return Ok(());
            }
            Ok(false) => return Ok(()),
            Err(error) => {
                // The retry (or the relay's sweep) claims it again without waiting for the lease.
                repo::release(&state.db, id, holder, false).await?;
                return Err(error);
            }
        }
    }
}

/// One chunk, committed with its checkpoint, by the worker holding the claim `holder`
/// (`repo::claim`). Answers whether more chunks follow for this holder. Public so that a test can
/// play a worker that dies between chunks.
pub async fn step(
    state: &AppState,
    queues: &mut Queues,
    id: OperationId,
    holder: Uuid,
    memo: &mut Memo,
) -> anyhow::Result<bool> {
    let mut tx = state.db.begin().await?;
    let Some(operation) = repo::lock(&mut tx, id).await? else { return Ok(false) };
    if operation.status.is_final() || operation.leased_by != Some(holder) {
        // Finished meanwhile, or this worker outlived its lease and someone else took over.
        return Ok(false);
    }
    if operation.cancel_requested {
        if operation.kind == OperationKind::Broadcast {
            broadcast::withdraw(&mut tx, &operation).await?;
        }
        repo::finish(&mut tx, id, OperationStatus::Cancelled, None).await?;
        tx.commit().await?;
        after_end(state, &operation).await;
        return Ok(false);
    }
    let chunk = match operation.kind {
        OperationKind::ExportOrders => export::chunk(state, &mut tx, &operation).await?,
        OperationKind::ImportCustomers => import::chunk(state, &mut tx, &operation, memo).await?,
        OperationKind::Broadcast => broadcast::chunk(state, &mut queues.deliver, &operation).await?,
    };
    let lease = state.settings.job_lease();
    let more = match chunk {
        Chunk::More(progress) => {
            repo::advance(&mut tx, id, &progress, lease).await?;
            true
        }
        Chunk::Last(progress) => {
            repo::advance(&mut tx, id, &progress, lease).await?;
            repo::finish(&mut tx, id, OperationStatus::Succeeded, None).await?;
            false
        }
        Chunk::Failed(error) => {
            tracing::warn!(operation = %id, %error, "operation failed");
            repo::finish(&mut tx, id, OperationStatus::Failed, Some(&error)).await?;
            false
        }
    };
    tx.commit().await?;
    if !more {
        after_end(state, &operation).await;
    }
    metrics::counter!("operation_chunks_total", "kind" => operation.kind.as_str()).increment(1);
    Ok(more)
}

/// Tidies up after an operation ended; what fails here is logged, never undoes the end.
async fn after_end(state: &AppState, operation: &Locked) {
    if operation.kind == OperationKind::ImportCustomers {
        import::forget_upload(state, operation.org_id, operation.id).await;
    }
}
