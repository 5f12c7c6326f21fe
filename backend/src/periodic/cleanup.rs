//! Clean-up: deletes what has expired or is no longer needed, in bounded batches so no statement
//! holds many locks or runs long: ended sessions (their refresh tokens go with them), used or
//! expired password-reset links, finished periodic runs, old finished deliveries, old summary
//! records, expired export files, and stored files no attachment refers to.

use crate::state::AppState;
use chrono::{DateTime, Duration, Utc};
use futures_util::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path as StorePath;
use std::collections::{BinaryHeap, HashSet};

/// Rows deleted per statement, and statements per kind of row per run: a backlog larger than
/// that is worked off over the following runs.
const ROW_BATCH: i64 = 1_000;
const BATCHES_PER_RUN: usize = 20;
/// How long a finished periodic run stays, for looking into what ran.
const RUN_RETENTION: Duration = Duration::days(7);
/// How long a sent, skipped or dead delivery stays in the delivery log.
const DELIVERY_RETENTION: Duration = Duration::days(30);
/// How long the record of a sent daily summary stays (only today's matters).
const SUMMARY_RETENTION: Duration = Duration::days(7);
/// Stored files examined per run, in key order from where the last run stopped.
const FILES_PER_RUN: usize = 1_000;
/// A file younger than this may belong to an upload still being saved, so it stays.
const FILE_GRACE: Duration = Duration::hours(1);
/// Where uploads are stored (`orgs/{org}/orders/{order}/{attachment}`); other files under `orgs/`
/// (exports) have owners of their own.
const FILES_PREFIX: &str = "orgs";

fn is_upload(key: &str) -> bool {
    key.split('/').nth(2) == Some("orders")
}

/// What one clean-up deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub sessions: u64,
    pub password_links: u64,
    pub periodic_runs: u64,
    pub deliveries: u64,
    pub daily_summaries: u64,
    /// Export files past their expiry (`crate::operations`).
    pub exports: u64,
    pub files: u64,
}

/// Deletes what expired as of `now`. Idempotent: a second run finds nothing more to delete.
pub async fn clean(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<Cleaned> {
    let db = &state.db;
    let sessions =
        batched(move || async move { crate::auth::repo::delete_ended_sessions(db, now, ROW_BATCH).await }).await?;
    let password_links =
        batched(move || async move { crate::auth::repo::delete_spent_reset_links(db, now, ROW_BATCH).await }).await?;
    let periodic_runs =
        batched(move || async move { super::repo::delete_finished(db, now - RUN_RETENTION, ROW_BATCH).await }).await?;
    let deliveries = batched(move || async move {
        crate::notifications::deliveries_repo::delete_finished(db, now - DELIVERY_RETENTION, ROW_BATCH).await
    })
    .await?;
    let daily_summaries = batched(move || async move {
        super::repo::delete_summaries_before(db, (now - SUMMARY_RETENTION).date_naive(), ROW_BATCH).await
    })
    .await?;
    let mut exports = 0;
    for _ in 0..BATCHES_PER_RUN {
        let deleted = crate::operations::service::delete_expired_files(state).await?;
        exports += deleted as u64;
        if deleted == 0 {
            break;
        }
    }
    let files = sweep_files(state, now).await?;
    Ok(Cleaned { sessions, password_links, periodic_runs, deliveries, daily_summaries, exports, files })
}

/// Runs a bounded delete until it deletes less than a batch, or `BATCHES_PER_RUN` times.
async fn batched<F, Fut>(mut delete: F) -> sqlx::Result<u64>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = sqlx::Result<u64>>,
{
    let mut total = 0;
    for _ in 0..BATCHES_PER_RUN {
        let deleted = delete().await?;
        total += deleted;
        if deleted < ROW_BATCH.unsigned_abs() {
            break;
        }
    }
    Ok(total)
}

/// Examines the next `FILES_PER_RUN` stored files in key order after where the last run stopped
/// (from the start again once it reached the end), and deletes those older than `FILE_GRACE` that
/// no attachment refers to: files of uploads whose saving was cut short. The listing of a store is
/// in no guaranteed order, so it is walked whole, keeping the smallest keys after the position.
async fn sweep_files(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let after = crate::attachments::repo::sweep_position(&state.db).await?;
    let prefix = StorePath::from(FILES_PREFIX);
    let mut listing = state.storage.list_with_offset(Some(&prefix), &StorePath::from(after.as_str()));
    // A max-heap of the smallest keys seen, with their times: the largest leaves first when full.
    let mut next: BinaryHeap<(String, DateTime<Utc>)> = BinaryHeap::with_capacity(FILES_PER_RUN + 1);
    while let Some(meta) = listing.try_next().await? {
        if !is_upload(meta.location.as_ref()) {
            continue;
        }
        next.push((meta.location.to_string(), meta.last_modified));
        if next.len() > FILES_PER_RUN {
            next.pop();
        }
    }
    let examined = next.into_sorted_vec();
    let position = match examined.last() {
        Some((key, _)) if examined.len() == FILES_PER_RUN => key.clone(),
        _ => String::new(),
    };
    let old: Vec<String> =
        examined.into_iter().filter(|(_, modified)| *modified < now - FILE_GRACE).map(|(key, _)| key).collect();
    let referenced: HashSet<String> =
        crate::attachments::repo::referenced_keys(&state.db, &old).await?.into_iter().collect();
    let mut deleted = 0;
    for key in old.iter().filter(|key| !referenced.contains(key.as_str())) {
        match state.storage.delete(&StorePath::from(key.as_str())).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => deleted += 1,
            Err(error) => tracing::warn!(key, error = %error, "deleting an unreferenced file failed"),
        }
    }
    crate::attachments::repo::set_sweep_position(&state.db, &position).await?;
    Ok(deleted)
}
