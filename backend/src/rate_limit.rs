//! Fixed-window counters in Redis. Redis holds only what may be lost: if it is unreachable or slow
//! the limiter lets requests through (`redis_guard` logs the outage once), so an outage degrades
//! protection, not service.

use crate::redis_guard::GuardedRedis;
use sha2::{Digest, Sha256};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

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

/// Where a window stands after a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub max: u32,
    /// Hits in the window, this one included.
    pub count: u32,
    /// Seconds until the window starts over.
    pub resets_in: u64,
}

impl Usage {
    pub fn remaining(&self) -> u32 {
        self.max.saturating_sub(self.count)
    }

    pub fn refused(&self) -> Option<Limited> {
        (self.count > self.max).then_some(Limited { retry_after: self.resets_in })
    }
}

#[derive(Clone)]
pub struct RateLimiter {
    redis: GuardedRedis,
    prefix: Arc<str>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// INCR of each key with the expiry (`ARGV[i]` seconds) set by the first hit of its window;
/// answers each count followed by its seconds left.
const HIT_LUA: &str = r"
local answer = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 then redis.call('EXPIRE', key, ARGV[i]) end
  answer[#answer + 1] = count
  answer[#answer + 1] = redis.call('TTL', key)
end
return answer
";
static HIT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(HIT_LUA));

impl RateLimiter {
    pub fn new(redis: GuardedRedis, prefix: &str) -> Self {
        Self { redis, prefix: Arc::from(prefix) }
    }

    /// Subjects (emails, IPs, user ids) are hashed so Redis holds no personal data.
    fn key(&self, limit: &Limit, subject: &str) -> String {
        let digest = Sha256::digest(subject.as_bytes());
        format!("{}rl:{}:{}", self.prefix, limit.name, hex::encode(&digest[..12]))
    }

    /// Counts a hit of each `(limit, subject)` in one round trip and answers where each window
    /// stands, in order; `None` when Redis is unavailable (and the hits are then allowed).
    pub async fn count_hits(&self, hits: &[(Limit, &str)]) -> Option<Vec<Usage>> {
        let mut invocation = HIT.prepare_invoke();
        for (limit, subject) in hits {
            invocation.key(self.key(limit, subject)).arg(limit.window.as_secs());
        }
        let answer: Vec<i64> = self.redis.run("rate limit", async |conn| invocation.invoke_async(conn).await).await?;
        let usages = hits
            .iter()
            .zip(answer.chunks_exact(2))
            .map(|((limit, _), pair)| Usage {
                max: limit.max,
                count: u32::try_from(pair[0]).unwrap_or(u32::MAX),
                resets_in: resets_in(pair[1], *limit),
            })
            .collect();
        Some(usages)
    }

    /// Counts a hit and refuses it when the window is already full.
    pub async fn hit(&self, limit: Limit, subject: &str) -> Result<(), Limited> {
        match self.count_hits(&[(limit, subject)]).await.as_deref() {
            Some([usage]) => usage.refused().map_or(Ok(()), Err),
            _ => Ok(()),
        }
    }

    /// Refuses when the window is full, without counting (for limits on failures only).
    pub async fn check(&self, limit: Limit, subject: &str) -> Result<(), Limited> {
        let key = self.key(&limit, subject);
        let window: Option<(Option<u32>, i64)> =
            self.redis.run("rate limit", async |conn| redis::pipe().get(&key).ttl(&key).query_async(conn).await).await;
        match window {
            Some((Some(count), ttl)) if count >= limit.max => Err(Limited { retry_after: resets_in(ttl, limit) }),
            _ => Ok(()),
        }
    }
}

fn resets_in(ttl: i64, limit: Limit) -> u64 {
    u64::try_from(ttl).ok().filter(|s| *s > 0).unwrap_or(limit.window.as_secs())
}
