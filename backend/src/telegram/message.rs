//! What a caller hands the sender, checked before anything is sent: a message Telegram would refuse
//! for its shape is refused here, once, instead of after a trip to the Bot API.

use teloxide_core::types::{InlineKeyboardButton, InlineKeyboardMarkup};

/// Telegram's limit on a button's `callback_data`.
pub const MAX_CALLBACK_DATA_BYTES: usize = 64;

/// One message to one private chat: text (or a photo with the text as its caption) and inline
/// buttons that come back to the bot as callback queries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramMessage {
    /// The user's private chat (`users.telegram_user_id`).
    pub chat_id: i64,
    /// HTML (Telegram's subset); the caller escapes what it interpolates.
    pub text: String,
    /// Rows of buttons, top to bottom.
    pub buttons: Vec<Vec<InlineButton>>,
    /// A photo Telegram fetches from this http(s) URL; `text` becomes its caption.
    pub photo_url: Option<String>,
}

/// A button that sends `callback_data` (1 to 64 bytes) back to the bot when pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineButton {
    pub text: String,
    pub callback_data: String,
}

impl InlineButton {
    pub fn new(text: impl Into<String>, callback_data: impl Into<String>) -> Self {
        Self { text: text.into(), callback_data: callback_data.into() }
    }
}

impl TelegramMessage {
    /// Says what Telegram would refuse about this message, if anything.
    pub fn check(&self) -> Result<(), String> {
        if self.photo_url.is_none() && self.text.trim().is_empty() {
            return Err("the text is empty".into());
        }
        if let Some(url) = &self.photo_url {
            photo_url(url)?;
        }
        for (row_index, row) in self.buttons.iter().enumerate() {
            if row.is_empty() {
                return Err(format!("button row {row_index} is empty"));
            }
            for button in row {
                if button.text.trim().is_empty() {
                    return Err(format!("a button in row {row_index} has no text"));
                }
                let length = button.callback_data.len();
                if length == 0 || length > MAX_CALLBACK_DATA_BYTES {
                    return Err(format!(
                        "the callback data of button {:?} is {length} bytes; Telegram takes 1 to {MAX_CALLBACK_DATA_BYTES}",
                        button.text
                    ));
                }
            }
        }
        Ok(())
    }

    /// The inline keyboard, or none without buttons.
    pub(crate) fn keyboard(&self) -> Option<InlineKeyboardMarkup> {
        (!self.buttons.is_empty()).then(|| {
            InlineKeyboardMarkup::new(self.buttons.iter().map(|row| {
                row.iter().map(|button| InlineKeyboardButton::callback(&button.text, &button.callback_data))
            }))
        })
    }
}

/// The photo's address, which Telegram's servers fetch themselves.
pub(crate) fn photo_url(url: &str) -> Result<url::Url, String> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(parsed),
        _ => Err(format!("the photo URL {url:?} is not an http(s) URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(buttons: Vec<Vec<InlineButton>>) -> TelegramMessage {
        TelegramMessage { chat_id: 42, text: "<b>Order 17</b> assigned".into(), buttons, photo_url: None }
    }

    #[test]
    fn callback_data_must_be_one_to_sixty_four_bytes() {
        let longest = "x".repeat(MAX_CALLBACK_DATA_BYTES);
        assert_eq!(message(vec![vec![InlineButton::new("Accept", longest.as_str())]]).check(), Ok(()));
        let too_long = message(vec![vec![InlineButton::new("Accept", format!("{longest}x"))]]).check();
        assert!(too_long.unwrap_err().contains("65 bytes"));
        // Bytes, not characters: 33 two-byte letters are 66 bytes.
        let cyrillic = message(vec![vec![InlineButton::new("Принять", "я".repeat(33))]]).check();
        assert!(cyrillic.unwrap_err().contains("66 bytes"));
        assert!(message(vec![vec![InlineButton::new("Accept", "")]]).check().is_err());
    }

    #[test]
    fn rows_texts_and_photo_urls_are_checked() {
        assert!(message(vec![vec![]]).check().unwrap_err().contains("row 0 is empty"));
        assert!(message(vec![vec![InlineButton::new(" ", "accept")]]).check().unwrap_err().contains("no text"));
        let mut empty = message(vec![]);
        empty.text = "  ".into();
        assert_eq!(empty.check(), Err("the text is empty".into()));
        empty.photo_url = Some("https://files.example.com/p/1.jpg".into());
        assert_eq!(empty.check(), Ok(()), "a photo needs no caption");
        empty.photo_url = Some("file:///etc/passwd".into());
        assert!(empty.check().unwrap_err().contains("not an http(s) URL"));
        empty.photo_url = Some("not a url".into());
        assert!(empty.check().is_err());
    }

    #[test]
    fn buttons_become_an_inline_keyboard_row_by_row() {
        assert_eq!(message(vec![]).keyboard(), None);
        let keyboard = message(vec![
            vec![InlineButton::new("Accept", "o:1:accept"), InlineButton::new("Decline", "o:1:decline")],
            vec![InlineButton::new("Open", "o:1:open")],
        ])
        .keyboard()
        .unwrap();
        let json = serde_json::to_value(keyboard).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"inline_keyboard": [
                [{"text": "Accept", "callback_data": "o:1:accept"}, {"text": "Decline", "callback_data": "o:1:decline"}],
                [{"text": "Open", "callback_data": "o:1:open"}],
            ]})
        );
    }
}
