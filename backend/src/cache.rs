//! Cache-aside for hot reads, in Redis as JSON. PostgreSQL stays the source of truth: a Redis that
//! fails or is slow only sends the read to PostgreSQL (logged once per outage by the shared circuit
//! breaker), and a request never fails because of the cache.
//!
//! Every entry belongs to one organization and its key holds that organization's id, so one
//! organization can never read another's entry. A cached value must depend on nothing but the
//! organization and the key's parameters: services check the caller's permission before reading,
//! and cache only what every permitted caller of the organization would see alike.
//!
//! Layout, per (cache, organization): a hash `…cache:{name}:{org}` of entries by parameters and a
//! generation counter `…cache:{name}:{org}:gen`. A write that changes cached data invalidates, after
//! its transaction has committed, by one atomic `INCR gen` + `DEL hash`:
//! - `DEL` of the one hash drops every page and filter of the organization at once, with no
//!   `SCAN` and no bookkeeping of which keys exist;
//! - the generation closes the race that `DEL` alone leaves open: a reader that loaded from
//!   PostgreSQL before the write committed and stores after the `DEL` would put back the old
//!   value. The reader notes the generation with its (missed) read and stores only if it is
//!   unchanged, in one script.
//!
//! The hash expires a TTL after its first entry, so whatever escapes invalidation (a write while
//! Redis was unreachable, a change made outside the services) heals within that TTL.

use crate::redis_guard::GuardedRedis;
use domain::OrgId;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

/// The cached reads. Each has its TTL and its own generation per organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cached {
    /// Pages of `GET /technicians`, by filter, cursor and page size.
    Technicians,
    /// Pages of `GET /service-types`, by filter, cursor and page size.
    ServiceTypes,
    /// `GET /org`.
    OrgSettings,
    /// `GET /dashboard/counters`: not invalidated by order changes, which happen in too many
    /// places; the short TTL bounds how far behind the counters may be.
    DashboardCounters,
}

impl Cached {
    pub const ALL: [Cached; 4] =
        [Cached::Technicians, Cached::ServiceTypes, Cached::OrgSettings, Cached::DashboardCounters];

    fn name(self) -> &'static str {
        match self {
            Cached::Technicians => "technicians",
            Cached::ServiceTypes => "service_types",
            Cached::OrgSettings => "org_settings",
            Cached::DashboardCounters => "dashboard_counters",
        }
    }

    /// The TTL belongs to the cache, not to each caller, so all readers of one hash agree on it.
    fn ttl(self) -> Duration {
        match self {
            // Invalidated on every write through the services; the TTL only bounds a missed one.
            Cached::Technicians | Cached::ServiceTypes | Cached::OrgSettings => Duration::from_secs(60),
            Cached::DashboardCounters => Duration::from_secs(10),
        }
    }
}

/// A generation outlives every entry written under it by far, so when it expires (an
/// organization quiet for a day) no entry of an older generation can still be there to match.
const GENERATION_TTL: Duration = Duration::from_secs(24 * 3600);

/// One cached read: what, of which organization, with which parameters.
#[derive(Debug, Clone)]
pub struct CacheKey {
    cached: Cached,
    org: OrgId,
    /// The parameters, hashed: short fields whatever the filter holds.
    field: String,
}

impl CacheKey {
    /// `params` must name everything else the read depends on (filters, cursor, page size).
    pub fn new(cached: Cached, org: OrgId, params: &serde_json::Value) -> Self {
        let digest = Sha256::digest(params.to_string().as_bytes());
        Self { cached, org, field: hex::encode(&digest[..16]) }
    }
}

/// `KEYS`: generation, entries; `ARGV`: field. Answers the generation and the entry, if any.
const READ_LUA: &str = r"
return {redis.call('GET', KEYS[1]) or '0', redis.call('HGET', KEYS[2], ARGV[1])}
";
/// `KEYS`: generation, entries; `ARGV`: the generation read, field, value, TTL in seconds.
/// Stores only when no invalidation came in between; the first entry starts the hash's TTL.
const STORE_LUA: &str = r"
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
if redis.call('TTL', KEYS[2]) < 0 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
return 1
";
static READ: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(READ_LUA));
static STORE: LazyLock<redis::Script> = LazyLock::new(|| redis::Script::new(STORE_LUA));

#[derive(Clone)]
pub struct Cache {
    redis: GuardedRedis,
    prefix: Arc<str>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl Cache {
    pub fn new(redis: GuardedRedis, prefix: &str) -> Self {
        Self { redis, prefix: Arc::from(prefix) }
    }

    /// The generation key and the entries key of a cache of an organization.
    fn keys(&self, cached: Cached, org: OrgId) -> (String, String) {
        let entries = format!("{}cache:{}:{}", self.prefix, cached.name(), org);
        (format!("{entries}:gen"), entries)
    }

    /// The cached value of `key`, or `load`'s, which is then cached. Errors of `load` are returned
    /// and never cached; Redis errors only send the read to `load`.
    pub async fn get_or_load<T, E, F>(&self, key: &CacheKey, load: impl FnOnce() -> F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: Future<Output = Result<T, E>>,
    {
        let (generation_key, entries_key) = self.keys(key.cached, key.org);
        let mut read = READ.prepare_invoke();
        read.key(&generation_key).key(&entries_key).arg(&key.field);
        let found: Option<(String, Option<String>)> =
            self.redis.run("cache read", async |conn| read.invoke_async(conn).await).await;
        let Some((generation, entry)) = found else {
            count(key.cached, "error");
            return load().await;
        };
        match entry.map(|json| serde_json::from_str::<T>(&json)) {
            Some(Ok(value)) => {
                count(key.cached, "hit");
                return Ok(value);
            }
            Some(Err(error)) => {
                // Written by another version of the code, most likely; replaced below.
                tracing::warn!(cache = key.cached.name(), %error, "unreadable cache entry; reloading");
                count(key.cached, "error");
            }
            None => count(key.cached, "miss"),
        }
        let value = load().await?;
        match serde_json::to_string(&value) {
            Ok(json) => {
                let mut store = STORE.prepare_invoke();
                store
                    .key(&generation_key)
                    .key(&entries_key)
                    .arg(&generation)
                    .arg(&key.field)
                    .arg(json)
                    .arg(key.cached.ttl().as_secs());
                let _: Option<i64> = self.redis.run("cache store", async |conn| store.invoke_async(conn).await).await;
            }
            Err(error) => tracing::warn!(cache = key.cached.name(), %error, "value not cacheable"),
        }
        Ok(value)
    }

    /// Drops every entry of these caches of the organization. Call it after the transaction that
    /// changed the data has committed (before, a reader could cache the old rows again). It tries
    /// even while the breaker is open: a skipped invalidation would serve stale data for a TTL,
    /// while trying costs a write at most the call timeout.
    pub async fn invalidate(&self, org: OrgId, caches: &[Cached]) {
        let mut pipe = redis::pipe();
        pipe.atomic();
        for &cached in caches {
            let (generation_key, entries_key) = self.keys(cached, org);
            pipe.incr(&generation_key, 1)
                .ignore()
                .expire(&generation_key, GENERATION_TTL.as_secs().cast_signed())
                .ignore()
                .del(&entries_key)
                .ignore();
        }
        let done: Option<()> =
            self.redis.run_anyway("cache invalidation", async |conn| pipe.query_async(conn).await).await;
        if done.is_none() {
            tracing::warn!(%org, ?caches, "cache not invalidated; entries may be stale until they expire");
        }
    }
}

fn count(cached: Cached, outcome: &'static str) {
    metrics::counter!("cache_requests_total", "cache" => cached.name(), "outcome" => outcome).increment(1);
}
