//! Fixed-window counters in Redis. Redis holds only what may be lost: if it is unreachable or slow
//! the limiter lets requests through (`redis_guard` logs the outage once), so an outage degrades
//! protection, not service.
//!
//! Two ways to count ([`Counting`]):
//! - every hit in Redis at once: exact across processes, one round trip per call. For the limits
//!   that stop password guessing and mail floods.
//! - batched: answered from a copy of the window kept in this process
//!   while the window is known and current, and a background task adds the process's hits to
//!   Redis every [`FLUSH_EVERY`], reading back what the other processes added. A window is always
//!   started (or renewed) in Redis, so every process agrees on when it ends. The price: N
//!   processes together may let through up to what N − 1 of them receive in one flush interval
//!   beyond the limit. For the API's per-user and per-IP limits, where a request must not wait on
//!   Redis just to be counted.

use crate::redis_guard::GuardedRedis;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

/// How often a process adds its batched hits to Redis.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Windows a process keeps; past that, new subjects are counted in Redis on every hit, so a flood
/// of distinct IPs costs round trips, not memory.
const MAX_LOCAL_WINDOWS: usize = 100_000;
/// Keys per script call of a flush, so one flush never holds Redis for long.
const FLUSH_CHUNK: usize = 500;

/// How a hit is counted across processes (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// In Redis, before the answer; this process's batched hits of the same windows go along.
    EveryHit,
    /// In the process, sent to Redis in the background.
    Batched,
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
    local: Arc<LocalWindows>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

/// INCRBY of each key by `ARGV[2i-1]`, with the expiry (`ARGV[2i]` milliseconds) set when the
/// key starts a window; answers each count followed by its milliseconds left.
const HIT_LUA: &str = r"
local answer = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCRBY', key, ARGV[2 * i - 1])
  local left = redis.call('PTTL', key)
  if left < 0 then
    redis.call('PEXPIRE', key, ARGV[2 * i])
    left = tonumber(ARGV[2 * i])
  end
  answer[#answer + 1] = count
  answer[#answer + 1] = left
end
return answer
";
static HIT: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(HIT_LUA));

/// One window's count as Redis last answered it, plus what this process added since.
struct LocalWindow {
    /// The count in Redis at the last answer, every process's hits included.
    shared: u32,
    /// Hits counted here and sent to Redis, not yet answered.
    in_flight: u32,
    /// Hits counted here and not yet sent.
    unsent: u32,
    window: Duration,
    ends_at: Instant,
}

impl LocalWindow {
    fn usage(&self, max: u32, now: Instant) -> Usage {
        let count = self.shared.saturating_add(self.in_flight).saturating_add(self.unsent);
        Usage { max, count, resets_in: seconds_up(self.ends_at.saturating_duration_since(now)) }
    }
}

/// A key's share of one script call: how many hits it adds, and its window.
#[derive(Debug)]
struct Sending {
    key: String,
    hits: u32,
    window: Duration,
}

/// What Redis answered for one key.
#[derive(Debug, Clone, Copy)]
struct Counted {
    count: u32,
    left: Duration,
}

/// The windows this process counts locally, by Redis key.
#[derive(Default)]
struct LocalWindows {
    windows: Mutex<HashMap<String, LocalWindow>>,
    /// Set once the flush task runs.
    flusher: OnceLock<()>,
}

impl LocalWindows {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, LocalWindow>> {
        // A panic while holding the lock leaves counts that are at worst a little off.
        self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts the hits here when they may be batched and every window is known and current;
    /// otherwise moves what is unsent of the known ones, and the hits, into what must go to Redis
    /// now, so that Redis's answer counts every hit of this process.
    fn count_or_send(
        &self,
        keys: &[(String, Limit)],
        counting: Counting,
        now: Instant,
    ) -> Result<Vec<Usage>, Vec<Sending>> {
        let mut windows = self.lock();
        let local = matches!(counting, Counting::Batched)
            && keys.iter().all(|(key, _)| windows.get(key).is_some_and(|w| w.ends_at > now));
        if local {
            return Ok(keys
                .iter()
                .filter_map(|(key, limit)| {
                    let window = windows.get_mut(key)?;
                    window.unsent = window.unsent.saturating_add(1);
                    Some(window.usage(limit.max, now))
                })
                .collect());
        }
        Err(keys
            .iter()
            .map(|(key, limit)| {
                // An ended window's hits are of no use: the answer starts the next one afresh.
                if windows.get(key).is_some_and(|w| w.ends_at <= now) {
                    windows.remove(key);
                }
                let earlier = windows.get_mut(key).map_or(0, |w| {
                    w.in_flight = w.in_flight.saturating_add(w.unsent);
                    std::mem::take(&mut w.unsent)
                });
                Sending { key: key.clone(), hits: earlier.saturating_add(1), window: limit.window }
            })
            .collect())
    }

    /// Moves every current window's unsent hits in flight, and forgets the windows that ended.
    fn take_unsent(&self, now: Instant) -> Vec<Sending> {
        let mut windows = self.lock();
        windows.retain(|_, w| w.ends_at > now);
        windows
            .iter_mut()
            .filter(|(_, w)| w.unsent > 0)
            .map(|(key, w)| {
                w.in_flight = w.in_flight.saturating_add(w.unsent);
                Sending { key: key.clone(), hits: std::mem::take(&mut w.unsent), window: w.window }
            })
            .collect()
    }

    /// Takes Redis's answer for what was sent (`None`: it was not counted, so it is unsent again).
    /// `own` says how many of each key's hits were this call's own, not earlier batched ones.
    fn learn(&self, sent: &[Sending], answer: Option<&[Counted]>, own: u32, now: Instant) {
        let mut windows = self.lock();
        for (index, sending) in sent.iter().enumerate() {
            let earlier = sending.hits.saturating_sub(own);
            let Some(counted) = answer.and_then(|answer| answer.get(index)) else {
                if let Some(window) = windows.get_mut(&sending.key) {
                    window.in_flight = window.in_flight.saturating_sub(earlier);
                    window.unsent = window.unsent.saturating_add(earlier);
                }
                continue;
            };
            let ends_at = now + counted.left;
            let room = windows.len() < MAX_LOCAL_WINDOWS;
            match windows.get_mut(&sending.key) {
                Some(window) => {
                    window.in_flight = window.in_flight.saturating_sub(earlier);
                    window.shared = counted.count;
                    window.ends_at = ends_at;
                }
                None if room => {
                    let window =
                        LocalWindow { shared: counted.count, in_flight: 0, unsent: 0, window: sending.window, ends_at };
                    windows.insert(sending.key.clone(), window);
                }
                None => {}
            }
        }
    }
}

impl RateLimiter {
    pub fn new(redis: GuardedRedis, prefix: &str) -> Self {
        Self { redis, prefix: Arc::from(prefix), local: Arc::default() }
    }

    /// Subjects (emails, IPs, user ids) are hashed so Redis holds no personal data.
    fn key(&self, limit: &Limit, subject: &str) -> String {
        let digest = Sha256::digest(subject.as_bytes());
        format!("{}rl:{}:{}", self.prefix, limit.name, hex::encode(&digest[..12]))
    }

    /// Counts a hit of each `(limit, subject)` and answers where each window stands, in order;
    /// `None` when Redis is unavailable (and the hits are then allowed).
    pub async fn count_hits(&self, hits: &[(Limit, &str)], counting: Counting) -> Option<Vec<Usage>> {
        self.start_flushing();
        let keys: Vec<(String, Limit)> =
            hits.iter().map(|(limit, subject)| (self.key(limit, subject), *limit)).collect();
        let sending = match self.local.count_or_send(&keys, counting, Instant::now()) {
            Ok(usages) => return Some(usages),
            Err(sending) => sending,
        };
        let answer = add_in_redis(&self.redis, &sending).await;
        self.local.learn(&sending, answer.as_deref(), 1, Instant::now());
        Some(hits.iter().zip(answer?).map(|((limit, _), counted)| counted.usage(limit.max)).collect())
    }

    /// Starts the task that sends batched hits, once per limiter. It holds the windows weakly, so
    /// it ends with the last clone of the limiter.
    fn start_flushing(&self) {
        self.local.flusher.get_or_init(|| {
            let windows = Arc::downgrade(&self.local);
            tokio::spawn(flush_until_dropped(self.redis.clone(), windows));
        });
    }

    /// Counts a hit and refuses it when the window is already full.
    pub async fn hit(&self, limit: Limit, subject: &str) -> Result<(), Limited> {
        match self.count_hits(&[(limit, subject)], Counting::EveryHit).await.as_deref() {
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
            Some((Some(count), ttl)) if count >= limit.max => {
                let left = u64::try_from(ttl).ok().filter(|s| *s > 0).map_or(limit.window, Duration::from_secs);
                Err(Limited { retry_after: seconds_up(left) })
            }
            _ => Ok(()),
        }
    }
}

impl Counted {
    fn usage(self, max: u32) -> Usage {
        Usage { max, count: self.count, resets_in: seconds_up(self.left) }
    }
}

async fn flush_until_dropped(redis: GuardedRedis, windows: Weak<LocalWindows>) {
    let mut ticks = tokio::time::interval(FLUSH_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let Some(windows) = windows.upgrade() else { return };
        let sending = windows.take_unsent(Instant::now());
        for chunk in sending.chunks(FLUSH_CHUNK) {
            let answer = add_in_redis(&redis, chunk).await;
            windows.learn(chunk, answer.as_deref(), 0, Instant::now());
        }
    }
}

/// Adds each key's hits in one script call; `None` when Redis is unavailable.
async fn add_in_redis(redis: &GuardedRedis, sending: &[Sending]) -> Option<Vec<Counted>> {
    let mut invocation = HIT.prepare_invoke();
    for one in sending {
        invocation.key(&one.key).arg(one.hits).arg(u64::try_from(one.window.as_millis()).unwrap_or(u64::MAX));
    }
    let answer: Vec<i64> = redis.run("rate limit", async |conn| invocation.invoke_async(conn).await).await?;
    let counted = answer
        .chunks_exact(2)
        .map(|pair| Counted {
            count: u32::try_from(pair[0]).unwrap_or(u32::MAX),
            left: Duration::from_millis(u64::try_from(pair[1]).unwrap_or(0)),
        })
        .collect();
    Some(counted)
}

/// Whole seconds, rounded up, and at least one: `Retry-After: 0` would invite a retry that fails.
fn seconds_up(left: Duration) -> u64 {
    left.as_millis().div_ceil(1000).clamp(1, u128::from(u64::MAX)).try_into().unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Limit = Limit { name: "test", max: 3, window: Duration::from_secs(60) };

    fn keys(names: &[&str]) -> Vec<(String, Limit)> {
        names.iter().map(|name| ((*name).to_owned(), LIMIT)).collect()
    }

    fn answered(count: u32) -> Counted {
        Counted { count, left: Duration::from_secs(30) }
    }

    /// Makes window `a` known here, as Redis answered its first hit with `count`.
    fn known(local: &LocalWindows, now: Instant, count: u32) {
        let sent = local.count_or_send(&keys(&["a"]), Counting::Batched, now).unwrap_err();
        local.learn(&sent, Some(&[answered(count)]), 1, now);
    }

    fn counts(usages: &[Usage]) -> Vec<u32> {
        usages.iter().map(|usage| usage.count).collect()
    }

    #[test]
    fn a_known_window_counts_here_until_it_ends() {
        let local = LocalWindows::default();
        let now = Instant::now();
        let sent = local.count_or_send(&keys(&["a"]), Counting::Batched, now).unwrap_err();
        assert_eq!(sent[0].hits, 1, "an unknown window goes to Redis");
        local.learn(&sent, Some(&[answered(2)]), 1, now);

        let usages = local.count_or_send(&keys(&["a"]), Counting::Batched, now).unwrap();
        assert_eq!(counts(&usages), [3]);
        assert_eq!(usages[0].resets_in, 30);
        let over = local.count_or_send(&keys(&["a"]), Counting::Batched, now).unwrap();
        assert_eq!(over[0].refused(), Some(Limited { retry_after: 30 }));

        let later = now + Duration::from_secs(31);
        let sent = local.count_or_send(&keys(&["a"]), Counting::Batched, later).unwrap_err();
        assert_eq!(sent[0].hits, 1, "the ended window's hits are dropped, not carried over");
    }

    #[test]
    fn one_unknown_window_sends_the_requests_other_unsent_hits_along() {
        let local = LocalWindows::default();
        let now = Instant::now();
        known(&local, now, 1);
        local.count_or_send(&keys(&["a"]), Counting::Batched, now).unwrap();

        let sent = local.count_or_send(&keys(&["a", "b"]), Counting::Batched, now).unwrap_err();
        assert_eq!(sent.iter().map(|s| s.hits).collect::<Vec<_>>(), [2, 1]);
        // Until Redis answers, the hits in flight still count here.
        assert_eq!(local.lock()["a"].usage(3, now).count, 2);
        local.learn(&sent, Some(&[answered(3), answered(1)]), 1, now);
        let usages = local.count_or_send(&keys(&["a", "b"]), Counting::Batched, now).unwrap();
        assert_eq!(counts(&usages), [4, 2]);
    }

    #[test]
    fn every_hit_counting_always_asks_redis() {
        let local = LocalWindows::default();
        let now = Instant::now();
        known(&local, now, 1);
        local.count_or_send(&keys(&["a"]), Counting::Batched, now).unwrap();
        let sent = local.count_or_send(&keys(&["a"]), Counting::EveryHit, now).unwrap_err();
        assert_eq!(sent[0].hits, 2, "the batched hit goes along, so Redis's answer counts it");
    }

    #[test]
    fn a_flush_takes_what_is_unsent_and_redis_brings_the_other_processes_hits() {
        let local = LocalWindows::default();
        let now = Instant::now();
        known(&local, now, 1);
        local.count_or_send(&keys(&["a"]), Counting::Batched, now).unwrap();
        local.count_or_send(&keys(&["a"]), Counting::Batched, now).unwrap();

        let flushed = local.take_unsent(now);
        assert_eq!(flushed.iter().map(|s| s.hits).collect::<Vec<_>>(), [2]);
        assert!(local.take_unsent(now).is_empty(), "nothing is sent twice");
        // Another process added 5 meanwhile.
        local.learn(&flushed, Some(&[answered(8)]), 0, now);
        let usages = local.count_or_send(&keys(&["a"]), Counting::Batched, now).unwrap();
        assert_eq!(counts(&usages), [9]);
    }

    #[test]
    fn hits_redis_did_not_take_are_sent_again() {
        let local = LocalWindows::default();
        let now = Instant::now();
        known(&local, now, 1);
        local.count_or_send(&keys(&["a"]), Counting::Batched, now).unwrap();
        let flushed = local.take_unsent(now);
        local.learn(&flushed, None, 0, now);
        assert_eq!(local.take_unsent(now).iter().map(|s| s.hits).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn ended_windows_are_forgotten_at_a_flush() {
        let local = LocalWindows::default();
        let now = Instant::now();
        known(&local, now, 1);
        assert!(local.take_unsent(now + Duration::from_secs(31)).is_empty());
        assert!(local.lock().is_empty());
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(seconds_up(Duration::from_millis(1)), 1);
        assert_eq!(seconds_up(Duration::ZERO), 1);
        assert_eq!(seconds_up(Duration::from_millis(59_001)), 60);
        assert_eq!(seconds_up(Duration::from_secs(60)), 60);
    }
}
