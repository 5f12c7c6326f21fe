//! Fixed-window counters in Redis. Redis holds only what may be lost: if it is unreachable the
//! limiter lets requests through and logs a warning, so an outage degrades protection, not service.

use crate::config::Settings;
use anyhow::Context;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

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

/// How many hits a window allows.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// Names the counter, e.g. `login:ip`.
    pub name: &'static str,
    pub max: u32,
    pub window: Duration,
}

/// A refused hit: try again after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: u64,
}

#[derive(Clone)]
pub struct RateLimiter {
    redis: deadpool_redis::Pool,
    prefix: Arc<str>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// INCR with the expiry set by the first hit of a window; answers the count and the seconds left.
const HIT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('TTL', KEYS[1])}
";

impl RateLimiter {
    pub fn new(redis: deadpool_redis::Pool, prefix: &str) -> Self {
        Self { redis, prefix: Arc::from(prefix) }
    }

    /// Subjects (emails, IPs) are hashed so Redis holds no personal data.
    fn key(&self, limit: &Limit, subject: &str) -> String {
        let digest = Sha256::digest(subject.as_bytes());
        format!("{}rl:{}:{}", self.prefix, limit.name, hex::encode(&digest[..12]))
    }

    /// Counts a hit and refuses it when the window is already full.
    pub async fn hit(&self, limit: Limit, subject: &str) -> Result<(), Limited> {
        let key = self.key(&limit, subject);
        let result: anyhow::Result<(u32, i64)> = async {
            let mut conn = self.redis.get().await?;
            Ok(redis::Script::new(HIT).key(&key).arg(limit.window.as_secs()).invoke_async(&mut conn).await?)
        }
        .await;
        match result {
            Ok((count, ttl)) if count > limit.max => Err(Limited { retry_after: retry_after(ttl, limit) }),
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), limit = limit.name, "rate limiter unavailable; allowing");
                Ok(())
            }
        }
    }

    /// Refuses when the window is full, without counting (for limits on failures only).
    pub async fn check(&self, limit: Limit, subject: &str) -> Result<(), Limited> {
        let key = self.key(&limit, subject);
        let result: anyhow::Result<(Option<u32>, i64)> = async {
            let mut conn = self.redis.get().await?;
            Ok(redis::pipe().get(&key).ttl(&key).query_async(&mut conn).await?)
        }
        .await;
        match result {
            Ok((Some(count), ttl)) if count >= limit.max => Err(Limited { retry_after: retry_after(ttl, limit) }),
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), limit = limit.name, "rate limiter unavailable; allowing");
                Ok(())
            }
        }
    }
}

fn retry_after(ttl: i64, limit: Limit) -> u64 {
    u64::try_from(ttl).ok().filter(|s| *s > 0).unwrap_or(limit.window.as_secs())
}
