//! The Telegram channel's sender: Bot API `sendMessage`/`sendPhoto` with inline buttons through
//! teloxide, within Telegram's flood limits shared by every process in Redis (`throttle`).
//! Without `FIELDFLOW_TELEGRAM_BOT_TOKEN` messages are written to the log instead, as emails are
//! without SMTP.

mod api;
mod message;
mod throttle;

pub use message::{InlineButton, MAX_CALLBACK_DATA_BYTES, TelegramMessage};

use crate::config::Settings;
use secrecy::ExposeSecret;
use std::time::Duration;
use teloxide_core::Bot;
use throttle::{Slot, Throttle};

/// How often one `send` waits out a 429 and sends again before handing the message back.
const MAX_RESENDS: usize = 3;

/// Why a message was not sent; each tells the job queue what to do with it.
#[derive(Debug, thiserror::Error)]
pub enum TelegramError {
    /// Telegram's flood control: try again after this long (longer than the sender waits itself).
    #[error("Telegram asks to retry in {0:?}")]
    RetryLater(Duration),
    /// Sending it again cannot succeed: the chat does not exist, the user blocked the bot, or the
    /// message itself is refused.
    #[error("Telegram refuses the message: {0}")]
    Permanent(String),
    /// Network trouble, Telegram's 5xx, a token the Bot API rejects, or Redis is down: retry later.
    #[error("Telegram message not sent: {0:#}")]
    Transient(anyhow::Error),
}

/// Sends Telegram messages for every part of the app. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TelegramSender {
    /// None without a token: messages are logged.
    bot: Option<Bot>,
    throttle: Throttle,
    max_retry_after: Duration,
}

impl TelegramSender {
    pub fn new(settings: &Settings, redis: deadpool_redis::Pool) -> anyhow::Result<Self> {
        let token = settings.telegram_bot_token.expose_secret();
        let bot = if token.is_empty() { None } else { Some(api::bot(token, settings.telegram_api_base())?) };
        Ok(Self {
            bot,
            throttle: Throttle::new(
                redis,
                &settings.redis_key_prefix,
                Duration::from_millis(settings.telegram_chat_interval_ms),
                settings.telegram_global_per_second,
            ),
            max_retry_after: Duration::from_secs(settings.telegram_max_retry_after_secs),
        })
    }

    /// Sends one message once its chat's and the bot's slots come up (waiting as long as needed),
    /// waits out Telegram's 429s up to `telegram_max_retry_after_secs` and sends again, and
    /// freezes the chat for every process meanwhile.
    pub async fn send(&self, message: &TelegramMessage) -> Result<(), TelegramError> {
        let result = self.try_send(message).await;
        let outcome = match &result {
            Ok(()) if self.bot.is_none() => "logged",
            Ok(()) => "sent",
            Err(TelegramError::RetryLater(_)) => "retry_later",
            Err(TelegramError::Permanent(_)) => "permanent",
            Err(TelegramError::Transient(_)) => "transient",
        };
        metrics::counter!("telegram_messages_total", "outcome" => outcome).increment(1);
        result
    }

    async fn try_send(&self, message: &TelegramMessage) -> Result<(), TelegramError> {
        message.check().map_err(TelegramError::Permanent)?;
        let Some(bot) = &self.bot else {
            tracing::info!(
                chat_id = message.chat_id,
                text = %message.text,
                photo = message.photo_url.as_deref(),
                buttons = ?message.buttons,
                "Telegram message (no FIELDFLOW_TELEGRAM_BOT_TOKEN; logged instead of sent)"
            );
            return Ok(());
        };
        let mut resends = 0;
        loop {
            match self.throttle.acquire(message.chat_id, self.max_retry_after).await {
                Ok(Slot::Taken(waited)) => {
                    metrics::histogram!("telegram_throttle_wait_seconds").record(waited.as_secs_f64());
                }
                Ok(Slot::Frozen(wait)) => return Err(TelegramError::RetryLater(wait)),
                Err(error) => return Err(TelegramError::Transient(error.context("Telegram throttle in Redis"))),
            }
            let wait = match api::deliver(bot, message).await {
                Err(TelegramError::RetryLater(wait)) => wait,
                done => return done,
            };
            tracing::warn!(chat_id = message.chat_id, retry_after = ?wait, "Telegram flood control (429)");
            self.throttle
                .freeze(message.chat_id, wait)
                .await
                .map_err(|error| TelegramError::Transient(error.context("freezing the chat in Redis")))?;
            if wait > self.max_retry_after || resends == MAX_RESENDS {
                return Err(TelegramError::RetryLater(wait));
            }
            // The next slot comes after the freeze.
            resends += 1;
        }
    }
}
