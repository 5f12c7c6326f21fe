//! Telegram's flood limits, kept in Redis so every process sending for the bot shares them: one
//! message per chat per interval, N per second for the whole bot, and a chat frozen for as long as
//! a 429 asked.
//!
//! Slots are reserved, not polled: a Lua script takes the next free time of the chat and of the bot
//! atomically and answers how long to sleep until that time. Times are Redis's clock (`TIME`) in
//! microseconds, so processes on machines with skewed clocks still agree.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// KEYS[1]: the chat's hash (`next`: its next free time, `frozen`: frozen until); KEYS[2]: the
/// bot's next free time. ARGV: the chat's and the bot's interval in µs.
/// Answers `{1, wait}`, a slot reserved `wait` µs from now, or `{0, wait}` when the chat is busy
/// or frozen for `wait` µs and nothing was reserved (so a frozen chat holds no slot of the bot's).
/// Large times are written with `%d`: Lua 5.1 would print them in exponent form.
static ACQUIRE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local chat = redis.call('HMGET', KEYS[1], 'next', 'frozen')
local ready = math.max(tonumber(chat[1]) or 0, tonumber(chat[2]) or 0)
if ready > now then return {0, ready - now} end
local start = math.max(now, tonumber(redis.call('GET', KEYS[2])) or 0)
local bot_next = start + tonumber(ARGV[2])
local chat_next = start + tonumber(ARGV[1])
redis.call('SET', KEYS[2], string.format('%d', bot_next), 'PX', math.ceil((bot_next - now) / 1000) + 1000)
redis.call('HSET', KEYS[1], 'next', string.format('%d', chat_next))
redis.call('PEXPIRE', KEYS[1], math.ceil((chat_next - now) / 1000) + 1000)
return {1, start - now}
",
    )
});

/// KEYS[1]: the chat's hash; ARGV[1]: how long Telegram asked to wait, in µs. Never shortens an
/// earlier, longer freeze.
static FREEZE: LazyLock<redis::Script> = LazyLock::new(|| {
    redis::Script::new(
        r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local chat = redis.call('HMGET', KEYS[1], 'next', 'frozen')
local frozen_until = math.max(now + tonumber(ARGV[1]), tonumber(chat[2]) or 0)
redis.call('HSET', KEYS[1], 'frozen', string.format('%d', frozen_until))
local latest = math.max(frozen_until, tonumber(chat[1]) or 0)
redis.call('PEXPIRE', KEYS[1], math.ceil((latest - now) / 1000) + 1000)
return 0
",
    )
});

/// What waiting for a slot came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The slot is now: send. Holds how long the wait was.
    Taken(Duration),
    /// The chat is frozen for longer than the caller would wait.
    Frozen(Duration),
}

#[derive(Clone)]
pub(crate) struct Throttle {
    redis: deadpool_redis::Pool,
    prefix: Arc<str>,
    chat_interval: Duration,
    bot_interval: Duration,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("prefix", &self.prefix)
            .field("chat_interval", &self.chat_interval)
            .field("bot_interval", &self.bot_interval)
            .finish_non_exhaustive()
    }
}

impl Throttle {
    pub(crate) fn new(redis: deadpool_redis::Pool, prefix: &str, chat_interval: Duration, per_second: u32) -> Self {
        let bot_interval = Duration::from_secs(1) / per_second.max(1);
        Self { redis, prefix: Arc::from(prefix), chat_interval, bot_interval }
    }

    fn chat_key(&self, chat_id: i64) -> String {
        format!("{}telegram:chat:{chat_id}", self.prefix)
    }

    /// Waits for the chat's next slot that is also one of the bot's, unless the chat is frozen for
    /// longer than `max_wait`. A reserved slot is always waited for, however far the bot's queue
    /// has pushed it: giving it up would not make the bot's limit any less full.
    pub(crate) async fn acquire(&self, chat_id: i64, max_wait: Duration) -> anyhow::Result<Slot> {
        let started = Instant::now();
        let chat_key = self.chat_key(chat_id);
        let bot_key = format!("{}telegram:bot", self.prefix);
        loop {
            let (reserved, wait_micros): (bool, u64) = {
                let mut conn = self.redis.get().await?;
                ACQUIRE
                    .key(&chat_key)
                    .key(&bot_key)
                    .arg(micros(self.chat_interval))
                    .arg(micros(self.bot_interval))
                    .invoke_async(&mut conn)
                    .await?
            };
            let wait = Duration::from_micros(wait_micros);
            if !reserved && wait > max_wait {
                return Ok(Slot::Frozen(wait));
            }
            tokio::time::sleep(wait).await;
            if reserved {
                return Ok(Slot::Taken(started.elapsed()));
            }
        }
    }

    /// Freezes the chat for every process until `wait` from now.
    pub(crate) async fn freeze(&self, chat_id: i64, wait: Duration) -> anyhow::Result<()> {
        let mut conn = self.redis.get().await?;
        let _: i64 = FREEZE.key(self.chat_key(chat_id)).arg(micros(wait)).invoke_async(&mut conn).await?;
        Ok(())
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}
