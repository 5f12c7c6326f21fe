//! One message to every browser a person subscribed: encrypted to each browser, signed with our
//! VAPID key, and POSTed to its push service (RFC 8030). What the push services answer decides the
//! delivery's outcome and which subscriptions are forgotten.

use super::encryption::{self, MAX_PLAINTEXT};
use super::repo::{self, Browser};
use super::vapid::VapidKey;
use crate::config::Settings;
use crate::state::AppState;
use crate::webhooks::client::{self as guarded, SendError};
use chrono::Utc;
use futures_util::future::join_all;
use reqwest::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde::Serialize;
use std::time::Duration;

const USER_AGENT: &str = "Fieldflow-Push";
/// How long a push service keeps a message for a browser that is offline.
const TTL_SECS: u32 = 24 * 3600;
/// The longest wait a push service's `Retry-After` is followed for; a longer one is cut to it.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// What the browser's service worker gets, as JSON: it shows `title` and `body`, opens `url` when
/// the notification is clicked, and a new notification with the same `tag` replaces the old one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub title: String,
    pub body: String,
    pub url: String,
    pub tag: String,
    #[serde(skip)]
    pub urgency: Urgency,
}

/// RFC 8030's `Urgency`: a phone on battery may hold back `normal` messages for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Normal,
    High,
}

impl Urgency {
    /// High for what a technician must act on soon: new, moved or cancelled work.
    pub fn of_kind(kind: &str) -> Self {
        match kind {
            "assign" | "reassign" | "offered" | "cancel" | "rescheduled" => Urgency::High,
            _ => Urgency::Normal,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Urgency::Normal => "normal",
            Urgency::High => "high",
        }
    }
}

/// How sending to all of a person's browsers went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// At least one push service took the message.
    Accepted,
    /// No VAPID key is configured: web push is off.
    NotConfigured,
    /// The person has no browser left (push services said the others are gone).
    NoBrowser,
    /// None took it, and some may later; `after` is the longest wait a push service asked for.
    RetryLater { after: Option<Duration>, error: String },
    /// Every push service refused it for good.
    Refused(String),
}

/// What one push service said of one browser.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Answer {
    Accepted,
    /// 404 or 410: the subscription expired or the person revoked it.
    Gone,
    Later {
        after: Option<Duration>,
        error: String,
    },
    Refused(String),
}

/// The HTTP client of web push, one per process, with the deployment's VAPID key if any.
#[derive(Clone, Debug)]
pub struct PushClient {
    http: reqwest::Client,
    key: Option<VapidKey>,
    subject: String,
    allow_private: bool,
}

impl PushClient {
    /// Needs `crate::install_crypto_provider()` to have run.
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        Ok(Self {
            http: guarded::guarded_client(USER_AGENT, settings.push_allow_private_networks)?,
            key: settings.vapid_key()?,
            subject: settings.vapid_subject.clone(),
            allow_private: settings.push_allow_private_networks,
        })
    }

    /// The VAPID key, or `None` when web push is off.
    pub fn key(&self) -> Option<&VapidKey> {
        self.key.as_ref()
    }

    /// Whether endpoints may be plain http and reach private networks (tests, development).
    pub fn allows_private_networks(&self) -> bool {
        self.allow_private
    }

    /// POSTs one encrypted message to one browser's push service.
    async fn post(&self, key: &VapidKey, browser: &Browser, payload: &[u8], urgency: Urgency) -> Answer {
        let Ok(endpoint) = url::Url::parse(&browser.endpoint) else {
            return Answer::Refused("the endpoint is not a valid URL".into());
        };
        if let Err(refused) = guarded::refuse_private_literal(&endpoint, self.allow_private) {
            return Answer::Refused(refused.to_string());
        }
        let Some(browser_key) = encryption::browser_key(&browser.p256dh) else {
            return Answer::Refused("the browser's key is not a P-256 point".into());
        };
        let body = match encryption::encrypt(payload, &browser_key, &browser.auth) {
            Ok(body) => body,
            Err(error) => return Answer::Refused(format!("{error:#}")),
        };
        let sent = self
            .http
            .post(endpoint.clone())
            .header(AUTHORIZATION, key.authorization(&endpoint, &self.subject, Utc::now()))
            .header("TTL", TTL_SECS)
            .header("Urgency", urgency.as_str())
            .header(CONTENT_ENCODING, "aes128gcm")
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(body)
            .send()
            .await;
        let response = match sent.map_err(guarded::classify) {
            Ok(response) => response,
            Err(SendError::Refused(error)) => return Answer::Refused(error),
            Err(SendError::Failed(error)) => return Answer::Later { after: None, error },
        };
        let status = response.status().as_u16();
        let after = retry_after(response.headers());
        let answer = guarded::Answer { status, excerpt: guarded::excerpt(response).await };
        match status {
            200..=299 => Answer::Accepted,
            404 | 410 => Answer::Gone,
            429 | 500..=599 => Answer::Later { after, error: format!("push service: {}", answer.describe()) },
            _ => Answer::Refused(format!("push service: {}", answer.describe())),
        }
    }
}

/// Sends `message` to each of `browsers` at once. Browsers whose push service says they are gone
/// are forgotten; the others that took it are marked as heard from.
pub async fn send(state: &AppState, browsers: &[Browser], message: &Message) -> anyhow::Result<PushOutcome> {
    let Some(key) = state.push.key() else { return Ok(PushOutcome::NotConfigured) };
    let payload = payload(message)?;
    let attempts: Vec<_> =
        browsers.iter().map(|browser| state.push.post(key, browser, &payload, message.urgency)).collect();
    let answers = join_all(attempts).await;
    let mut later: Option<(Option<Duration>, String)> = None;
    let mut refused = Vec::new();
    let mut accepted = false;
    for (browser, answer) in browsers.iter().zip(answers) {
        match answer {
            Answer::Accepted => {
                accepted = true;
                repo::accepted(&state.db, browser.id).await?;
            }
            Answer::Gone => repo::forget(&state.db, browser.id).await?,
            Answer::Later { after, error } => {
                let longest = later.as_ref().and_then(|(wait, _)| *wait).max(after);
                later = Some((longest, error));
            }
            Answer::Refused(error) => refused.push(error),
        }
    }
    Ok(match (accepted, later) {
        (true, _) => PushOutcome::Accepted,
        (false, Some((after, error))) => PushOutcome::RetryLater { after, error },
        (false, None) if refused.is_empty() => PushOutcome::NoBrowser,
        (false, None) => PushOutcome::Refused(refused.join("; ")),
    })
}

/// The JSON the service worker reads, within what one push message carries: a body too long for it
/// is cut to the longest start that fits with an ellipsis.
fn payload(message: &Message) -> anyhow::Result<Vec<u8>> {
    let whole = serde_json::to_vec(message)?;
    if whole.len() <= MAX_PLAINTEXT {
        return Ok(whole);
    }
    let chars: Vec<char> = message.body.chars().collect();
    let (mut fits, mut too_long) = (0, chars.len());
    while fits + 1 < too_long {
        let middle = (fits + too_long) / 2;
        if cut(message, &chars[..middle])?.len() <= MAX_PLAINTEXT {
            fits = middle;
        } else {
            too_long = middle;
        }
    }
    cut(message, &chars[..fits])
}

fn cut(message: &Message, kept: &[char]) -> anyhow::Result<Vec<u8>> {
    let body = kept.iter().chain(['…'].iter()).collect();
    Ok(serde_json::to_vec(&Message { body, ..message.clone() })?)
}

/// `Retry-After` in seconds or as an HTTP date, capped at an hour.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match raw.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => {
            let at = chrono::DateTime::parse_from_rfc2822(raw).ok()?;
            (at.with_timezone(&Utc) - Utc::now()).to_std().unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(LONGEST_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn message(body: String) -> Message {
        Message {
            title: "Order 42".into(),
            body,
            url: "https://app.example.com/orders/1".into(),
            tag: "order-1".into(),
            urgency: Urgency::High,
        }
    }

    #[test]
    fn a_payload_carries_title_body_url_and_tag_and_fits_one_message() {
        let json: serde_json::Value = serde_json::from_slice(&payload(&message("Fix it".into())).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "title": "Order 42", "body": "Fix it",
                                "url": "https://app.example.com/orders/1", "tag": "order-1" })
        );
        let long = payload(&message("ш\"".repeat(3000))).unwrap();
        assert!(long.len() <= MAX_PLAINTEXT, "{}", long.len());
        let cut: serde_json::Value = serde_json::from_slice(&long).unwrap();
        let body = cut["body"].as_str().unwrap();
        assert!(body.ends_with('…') && body.starts_with("ш\"ш"), "{body}");
        assert!(long.len() > MAX_PLAINTEXT - 8, "only as much is cut as needed: {}", long.len());
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_capped() {
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("999999"));
        assert_eq!(retry_after(&headers), Some(LONGEST_RETRY_AFTER));
        let soon = (Utc::now() + chrono::Duration::seconds(120)).to_rfc2822();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(&soon).unwrap());
        let wait = retry_after(&headers).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120), "{wait:?}");
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn new_and_changed_work_is_urgent() {
        assert_eq!(Urgency::of_kind("assign"), Urgency::High);
        assert_eq!(Urgency::of_kind("comment"), Urgency::Normal);
    }
}
