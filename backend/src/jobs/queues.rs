//! The job queues on Redis (apalis) and what their jobs say: `announce` an order event, `deliver`
//! one later or retried delivery, run a `periodic` task for one time slot, work on a long
//! operation (`operations`). The areas push jobs here; `jobs::workers` runs them. This module
//! knows no area, so every area may use it.

use crate::config::Settings;
use crate::periodic::Task;
use anyhow::Context;
use apalis::prelude::*;
use apalis_redis::{Config, RedisStorage};
use chrono::{DateTime, Utc};
use domain::OperationId;
use futures_util::stream;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use std::time::Duration;
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
/// Jobs run at once per worker process and queue. The jobs mostly wait on PostgreSQL, Redis and
/// Telegram, so this is well above the cores.
pub const WORKER_CONCURRENCY: usize = 16;
/// Jobs a worker takes from Redis per fetch. apalis-redis's default of 10 caps a queue at 10 per
/// poll, 200 jobs/s at `WORKER_POLL`: below the announce rate `scripts/bench-notifications` drives.
const FETCH_BATCH: usize = 50;

impl Queues {
    pub async fn connect(settings: &Settings) -> anyhow::Result<Self> {
        let connection = apalis_redis::connect(settings.redis_url.expose_secret())
            .await
            .context("connecting the job queues to Redis (FIELDFLOW_REDIS_URL)")?;
        Ok(Self {
            announce: RedisStorage::new(connection.clone()).with_config(queue_config(settings, "announce")),
            deliver: RedisStorage::new(connection.clone()).with_config(queue_config(settings, "deliver")),
            periodic: RedisStorage::new(connection.clone()).with_config(queue_config(settings, "periodic")),
            operations: RedisStorage::new(connection).with_config(queue_config(settings, "operations")),
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
        .batch_size(FETCH_BATCH)
}

/// Jobs waiting in a queue's sorted set: due ones and scheduled ones.
pub async fn waiting<Args>(queue: &mut RedisStorage<Args>) -> anyhow::Result<usize> {
    let key = queue.get_config().scheduled_jobs_set();
    Ok(redis::cmd("ZCARD").arg(key).query_async(queue.get_connection()).await?)
}

/// A delivery that needs a job: its id and when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    pub id: Uuid,
    pub at: DateTime<Utc>,
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
