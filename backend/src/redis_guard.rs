//! Redis for what may fail open: rate limits and the cache. Every call has a short timeout, and a
//! failure opens a circuit breaker that skips Redis for a second, so an outage costs about one
//! slow call per second per process instead of a timeout on every request. An outage is logged
//! once when it starts and once when Redis answers again.

use crate::config::Settings;
use anyhow::Context;
use redis::aio::MultiplexedConnection;
use secrecy::ExposeSecret;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Longest a call may take, connecting included; a healthy Redis answers in about a millisecond.
const CALL_TIMEOUT: Duration = Duration::from_millis(500);
/// How long Redis is skipped after a failed call.
const OPEN_FOR: Duration = Duration::from_secs(1);

pub fn redis_pool(settings: &Settings) -> anyhow::Result<deadpool_redis::Pool> {
    let mut config = deadpool_redis::Config::from_url(settings.redis_url.expose_secret());
    config.pool = Some(deadpool_redis::PoolConfig {
        max_size: 16,
        timeouts: deadpool_redis::Timeouts {
            wait: Some(Duration::from_secs(2)),
            create: Some(Duration::from_secs(2)),
            recycle: Some(Duration::from_secs(2)),
        },
        ..Default::default()
    });
    config.create_pool(Some(deadpool_redis::Runtime::Tokio1)).context("FIELDFLOW_REDIS_URL is not a valid Redis URL")
}

/// One multiplexed Redis connection behind one circuit breaker, shared by everything that holds a
/// clone. Requests share the connection (it pipelines concurrent calls) instead of checking one out
/// of the pool per call: the pool tests each checkout with a `PING`, which would double the round
/// trips of every rate-limited, cached request. A failed call drops the connection, and the next
/// call connects afresh through the pool.
#[derive(Clone)]
pub struct GuardedRedis {
    pool: deadpool_redis::Pool,
    shared: Arc<Mutex<Option<MultiplexedConnection>>>,
    breaker: Arc<Breaker>,
}

impl std::fmt::Debug for GuardedRedis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedRedis").field("open", &self.breaker.is_open()).finish_non_exhaustive()
    }
}

struct Breaker {
    since: Instant,
    /// Milliseconds after `since` until which calls are skipped.
    open_until: AtomicU64,
    /// Whether the last call failed, so an outage is logged once.
    failing: AtomicBool,
}

impl Breaker {
    fn now(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn is_open(&self) -> bool {
        self.now() < self.open_until.load(Ordering::Relaxed)
    }

    fn trip(&self, what: &str, error: &anyhow::Error) {
        let until = self.now().saturating_add(u64::try_from(OPEN_FOR.as_millis()).unwrap_or(u64::MAX));
        self.open_until.store(until, Ordering::Relaxed);
        if !self.failing.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                error = format!("{error:#}"),
                during = what,
                "Redis unavailable; rate limits allow and the cache reads PostgreSQL until it answers again"
            );
        }
    }

    fn succeeded(&self) {
        if self.failing.swap(false, Ordering::Relaxed) {
            tracing::info!("Redis answers again");
        }
    }
}

impl GuardedRedis {
    pub fn new(pool: deadpool_redis::Pool) -> Self {
        let breaker = Breaker { since: Instant::now(), open_until: AtomicU64::new(0), failing: AtomicBool::new(false) };
        Self { pool, shared: Arc::default(), breaker: Arc::new(breaker) }
    }

    fn shared(&self) -> MutexGuard<'_, Option<MultiplexedConnection>> {
        // The guarded value is a connection handle, whole whatever a panicking holder did.
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn connection(&self) -> anyhow::Result<MultiplexedConnection> {
        if let Some(connection) = self.shared().clone() {
            return Ok(connection);
        }
        let connected = deadpool_redis::Connection::take(self.pool.get().await?);
        Ok(self.shared().get_or_insert(connected).clone())
    }

    /// Runs `call` on a pooled connection, unless a recent failure opened the breaker. `None` when
    /// Redis was skipped, failed or was too slow: the caller goes on without it. `what` names the
    /// call in the log.
    pub async fn run<T>(
        &self,
        what: &'static str,
        call: impl AsyncFnOnce(&mut MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Option<T> {
        if self.breaker.is_open() {
            return None;
        }
        self.run_anyway(what, call).await
    }

    /// Like [`Self::run`], but tries even while the breaker is open: for calls whose loss costs
    /// correctness rather than time, such as a cache invalidation after a write.
    pub async fn run_anyway<T>(
        &self,
        what: &'static str,
        call: impl AsyncFnOnce(&mut MultiplexedConnection) -> redis::RedisResult<T>,
    ) -> Option<T> {
        let attempt = async {
            let mut conn = self.connection().await?;
            anyhow::Ok(call(&mut conn).await?)
        };
        let outcome = match tokio::time::timeout(CALL_TIMEOUT, attempt).await {
            Ok(outcome) => outcome,
            Err(_) => Err(anyhow::anyhow!("no answer within {CALL_TIMEOUT:?}")),
        };
        match outcome {
            Ok(value) => {
                self.breaker.succeeded();
                Some(value)
            }
            Err(error) => {
                // Whether the connection or only this call failed, a new connection is cheap.
                self.shared().take();
                self.breaker.trip(what, &error);
                None
            }
        }
    }
}
