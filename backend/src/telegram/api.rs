//! One call to the Bot API through teloxide, and what its failure means for the message.

use super::{TelegramError, TelegramMessage, message};
use teloxide_core::payloads::{SendMessageSetters, SendPhotoSetters};
use teloxide_core::requests::{Request, Requester};
use teloxide_core::types::{ChatId, InputFile, ParseMode};
use teloxide_core::{ApiError, Bot, RequestError};

/// A client for the Bot API at `api_url` (no trailing slash: teloxide appends `/bot<token>/<method>`).
pub(super) fn bot(token: &str, api_url: &str) -> anyhow::Result<Bot> {
    let client = teloxide_core::net::default_reqwest_settings()
        .build()
        .map_err(|e| anyhow::anyhow!("building the Telegram HTTP client: {e}"))?;
    let api_url =
        url::Url::parse(api_url).map_err(|e| anyhow::anyhow!("FIELDFLOW_TELEGRAM_API_URL {api_url:?}: {e}"))?;
    Ok(Bot::with_client(token, client).set_api_url(api_url))
}

/// Sends once: `sendPhoto` with the text as caption when there is a photo, else `sendMessage`.
/// A 429 comes back as [`TelegramError::RetryLater`] with Telegram's `retry_after`.
pub(super) async fn deliver(bot: &Bot, message: &TelegramMessage) -> Result<(), TelegramError> {
    let chat = ChatId(message.chat_id);
    let keyboard = message.keyboard();
    let result = match &message.photo_url {
        Some(url) => {
            let photo = message::photo_url(url).map_err(TelegramError::Permanent)?;
            let mut request = bot.send_photo(chat, InputFile::url(photo)).parse_mode(ParseMode::Html);
            if !message.text.is_empty() {
                request = request.caption(&message.text);
            }
            if let Some(keyboard) = keyboard {
                request = request.reply_markup(keyboard);
            }
            request.send().await
        }
        None => {
            let mut request = bot.send_message(chat, &message.text).parse_mode(ParseMode::Html);
            if let Some(keyboard) = keyboard {
                request = request.reply_markup(keyboard);
            }
            request.send().await
        }
    };
    result.map(drop).map_err(classify)
}

/// Refusals of this message for this chat (bad request, blocked by the user) are permanent;
/// everything else (network, Telegram's 5xx, a token the Bot API does not know) may pass.
fn classify(error: RequestError) -> TelegramError {
    match error {
        RequestError::RetryAfter(seconds) => TelegramError::RetryLater(seconds.duration()),
        RequestError::MigrateToChatId(chat) => {
            TelegramError::Permanent(format!("the group became supergroup {chat}; its id changed"))
        }
        RequestError::Api(ApiError::InvalidToken) => {
            TelegramError::Transient(anyhow::anyhow!("the Bot API does not know FIELDFLOW_TELEGRAM_BOT_TOKEN"))
        }
        RequestError::Api(error) => {
            let description = match error {
                ApiError::Unknown(description) => description,
                known => known.to_string(),
            };
            if refuses_the_message(&description) {
                TelegramError::Permanent(description)
            } else {
                TelegramError::Transient(anyhow::anyhow!("Bot API error: {description}"))
            }
        }
        other => TelegramError::Transient(anyhow::Error::new(other).context("calling the Bot API")),
    }
}

/// Telegram's descriptions start with the HTTP reason: 400 and 403 (and the older 401 wording for
/// blocked bots) are about the message or the chat, so sending it again cannot help.
fn refuses_the_message(description: &str) -> bool {
    ["Bad Request", "Forbidden", "Unauthorized:", "Request Entity Too Large"]
        .iter()
        .any(|reason| description.starts_with(reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The error teloxide makes of a Bot API error body.
    fn api_error(description: &str) -> RequestError {
        RequestError::Api(serde_json::from_value(serde_json::Value::from(description)).unwrap())
    }

    #[test]
    fn refusals_of_the_message_are_permanent() {
        for description in [
            "Forbidden: bot was blocked by the user",
            "Forbidden: user is deactivated",
            "Bad Request: chat not found",
            "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0",
            "Bad Request: BUTTON_DATA_INVALID",
            "Unauthorized: bot can't initiate conversation with a user",
        ] {
            match classify(api_error(description)) {
                TelegramError::Permanent(kept) => assert_eq!(kept, description),
                other => panic!("{description}: {other:?}"),
            }
        }
    }

    #[test]
    fn server_trouble_and_a_wrong_token_are_transient() {
        for description in ["Internal Server Error", "Bad Gateway", "Unauthorized", "Something new"] {
            assert!(matches!(classify(api_error(description)), TelegramError::Transient(_)), "{description}");
        }
    }

    #[test]
    fn retry_after_keeps_telegrams_wait() {
        let error = RequestError::RetryAfter(teloxide_core::types::Seconds::from_seconds(7));
        assert!(matches!(classify(error), TelegramError::RetryLater(wait) if wait == Duration::from_secs(7)));
    }
}
