//! `periodic_runs`: which slot of which task is owed, queued, done or given up.

use super::Task;
use chrono::{DateTime, NaiveDate, Utc};
use domain::OrgId;
use sqlx::{PgConnection, PgExecutor};
use std::time::Duration;

/// A run of one task for one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub task: Task,
    pub slot: DateTime<Utc>,
}

/// Attempts of a failing run before it is given up; the task's next slot does the same work.
pub const MAX_ATTEMPTS: i32 = 3;

fn runs(rows: Vec<(String, DateTime<Utc>)>) -> Vec<Run> {
    rows.into_iter().filter_map(|(task, slot)| Some(Run { task: Task::parse(&task)?, slot })).collect()
}

/// Inserts the runs no scheduler claimed yet and answers those: the caller queues them. A row
/// another transaction is inserting waits for it, then counts as claimed by that one.
pub async fn claim(conn: &mut PgConnection, wanted: &[Run], now: DateTime<Utc>) -> sqlx::Result<Vec<Run>> {
    let tasks: Vec<&str> = wanted.iter().map(|run| run.task.as_str()).collect();
    let slots: Vec<DateTime<Utc>> = wanted.iter().map(|run| run.slot).collect();
    let rows = sqlx::query!(
        "INSERT INTO periodic_runs (task, slot, leased_at)
         SELECT task, slot, $3 FROM UNNEST($1::text[], $2::timestamptz[]) AS w(task, slot)
         ON CONFLICT (task, slot) DO NOTHING
         RETURNING task, slot",
        &tasks as &[&str],
        &slots,
        now,
    )
    .fetch_all(conn)
    .await?;
    Ok(runs(rows.into_iter().map(|row| (row.task, row.slot)).collect()))
}

/// Takes the unfinished runs whose lease ran out (Redis lost the job, its worker died, or it failed
/// and may try again) and leases them anew: the caller queues them again.
pub async fn take_overdue(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> sqlx::Result<Vec<Run>> {
    let rows = sqlx::query!(
        "UPDATE periodic_runs SET leased_at = $1, attempts = attempts + 1
         WHERE (task, slot) IN (SELECT task, slot FROM periodic_runs
                                WHERE finished_at IS NULL AND leased_at < $1::timestamptz - make_interval(secs => $2)
                                ORDER BY leased_at LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING task, slot",
        now,
        lease.as_secs_f64(),
        limit,
    )
    .fetch_all(conn)
    .await?;
    Ok(runs(rows.into_iter().map(|row| (row.task, row.slot)).collect()))
}

/// A worker takes the run: its lease starts again. False when it is finished (or unknown), and
/// the job has nothing to do.
pub async fn start(db: impl PgExecutor<'_>, run: Run, now: DateTime<Utc>) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE periodic_runs SET leased_at = $3 WHERE task = $1 AND slot = $2 AND finished_at IS NULL",
        run.task.as_str(),
        run.slot,
        now,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a finished run.
pub async fn finish(db: impl PgExecutor<'_>, run: Run, now: DateTime<Utc>, detail: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE periodic_runs SET finished_at = $3, outcome = 'done', detail = $4
         WHERE task = $1 AND slot = $2 AND finished_at IS NULL",
        run.task.as_str(),
        run.slot,
        now,
        detail,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Records a failed attempt: the run is tried again after its lease, or given up after
/// `MAX_ATTEMPTS`. Answers whether it was given up.
pub async fn fail(db: impl PgExecutor<'_>, run: Run, now: DateTime<Utc>, error: &str) -> sqlx::Result<bool> {
    let given_up = sqlx::query_scalar!(
        r#"UPDATE periodic_runs SET outcome = 'failed', detail = $4,
                  finished_at = CASE WHEN attempts >= $5 THEN $3::timestamptz END
           WHERE task = $1 AND slot = $2 AND finished_at IS NULL
           RETURNING finished_at IS NOT NULL AS "given_up!""#,
        run.task.as_str(),
        run.slot,
        now,
        error,
        MAX_ATTEMPTS,
    )
    .fetch_optional(db)
    .await?;
    Ok(given_up.unwrap_or(false))
}

/// Deletes up to `limit` runs finished before `before`.
pub async fn delete_finished(db: impl PgExecutor<'_>, before: DateTime<Utc>, limit: i64) -> sqlx::Result<u64> {
    let done = sqlx::query!(
        "DELETE FROM periodic_runs WHERE (task, slot) IN (
             SELECT task, slot FROM periodic_runs WHERE finished_at < $1 ORDER BY finished_at LIMIT $2)",
        before,
        limit,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes up to `limit` records of daily summaries sent for local dates before `before`.
pub async fn delete_summaries_before(db: impl PgExecutor<'_>, before: NaiveDate, limit: i64) -> sqlx::Result<u64> {
    sqlx::query!(
        "DELETE FROM daily_summaries WHERE (org_id, local_date) IN (
             SELECT org_id, local_date FROM daily_summaries WHERE local_date < $1::date LIMIT $2)",
        before,
        limit,
    )
    .execute(db)
    .await
    .map(|done| done.rows_affected())
}

/// An organization that wants a daily summary, with the last local date it got one.
#[derive(Debug)]
pub struct Subscriber {
    pub id: OrgId,
    pub name: String,
    pub time_zone: String,
    pub hour: i32,
    pub last_sent: Option<NaiveDate>,
}

pub async fn summary_subscribers(db: impl PgExecutor<'_>) -> sqlx::Result<Vec<Subscriber>> {
    sqlx::query_as!(
        Subscriber,
        r#"SELECT o.id AS "id: OrgId", o.name, o.time_zone, o.daily_summary_hour AS "hour!",
                  (SELECT max(s.local_date) FROM daily_summaries s WHERE s.org_id = o.id) AS last_sent
           FROM organizations o WHERE o.daily_summary_hour IS NOT NULL"#,
    )
    .fetch_all(db)
    .await
}

/// Records that the organization got its summary of `local_date`.
pub async fn record_summary(
    db: impl PgExecutor<'_>,
    org: OrgId,
    local_date: NaiveDate,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO daily_summaries (org_id, local_date, sent_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        org.0,
        local_date,
        at,
    )
    .execute(db)
    .await
    .map(drop)
}
