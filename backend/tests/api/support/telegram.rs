//! A fake Telegram Bot API server that speaks the real wire format (`POST /bot<token>/<method>`
//! with a JSON, form or multipart body; `{"ok":…}` answers), records every request, and answers
//! scripted errors such as a 429 with `retry_after`. A test hosts it in-process and points the
//! code under test at `url`, through [`FakeTelegram::configure`] for an `AppState` or
//! [`FakeTelegram::env`] for a child `fieldflow` process.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use fieldflow::config::Settings;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// The token the fake accepts; any other is answered 401 like Telegram does.
pub const TOKEN: &str = "7000000001:AAFakeTokenForFieldflowTests";
const BOT_USER_ID: i64 = 7_000_000_001;

/// One request for a message, as the fake understood it.
#[derive(Debug, Clone)]
pub struct SentMessage {
    /// `sendMessage` or `sendPhoto`.
    pub method: String,
    /// 0 when the request named no chat.
    pub chat_id: i64,
    /// The text, or the photo's caption (empty without one).
    pub text: String,
    pub parse_mode: Option<String>,
    /// The `reply_markup` object, e.g. `{"inline_keyboard": [[{"text", "callback_data"}]]}`.
    pub reply_markup: Option<Value>,
    /// The photo's URL (or file id) of a `sendPhoto`.
    pub photo: Option<String>,
    /// What the fake answered: 200, or the scripted or validation error.
    pub status: u16,
    pub received_at: Instant,
}

/// An error answer waiting for a request to a chat (or any chat).
struct Scripted {
    chat_id: Option<i64>,
    /// None: every time.
    remaining: Option<usize>,
    status: u16,
    description: String,
    retry_after: Option<u64>,
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<SentMessage>>,
    scripted: Mutex<Vec<Scripted>>,
    last_message_id: AtomicI64,
    arrived: Notify,
    /// Chats whose next message is taken but never answered, as when the sender dies mid-request.
    held: Mutex<Vec<i64>>,
}

/// The server runs until this is dropped.
pub struct FakeTelegram {
    /// The Bot API base URL (`FIELDFLOW_TELEGRAM_API_URL`), without a trailing slash.
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeTelegram {
    pub async fn start() -> Self {
        Self::start_on("127.0.0.1:0").await
    }

    /// On a given address, for a server process started before it (the notification benchmark).
    pub async fn start_on(address: &str) -> Self {
        let shared = Arc::new(Shared::default());
        let router = Router::new().route("/{bot}/{method}", any(handle)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(address).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { url, shared, server }
    }

    pub fn token(&self) -> &'static str {
        TOKEN
    }

    /// Points settings (before `AppState` is built from them) at this server.
    pub fn configure(&self, settings: &mut Settings) {
        settings.telegram_bot_token = TOKEN.into();
        settings.telegram_api_url.clone_from(&self.url);
    }

    /// The environment that points a child `fieldflow` process at this server.
    pub fn env(&self) -> [(&'static str, String); 2] {
        [("FIELDFLOW_TELEGRAM_BOT_TOKEN", TOKEN.to_owned()), ("FIELDFLOW_TELEGRAM_API_URL", self.url.clone())]
    }

    /// Every request with a valid token to a send method, whatever it was answered, in arrival order.
    pub fn requests(&self) -> Vec<SentMessage> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The messages delivered (answered 200), in arrival order.
    pub fn received(&self) -> Vec<SentMessage> {
        self.requests().into_iter().filter(|m| m.status == 200).collect()
    }

    /// Waits until at least `count` messages were delivered; panics with what arrived otherwise.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<SentMessage> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Created before the check, so an arrival between the check and the wait still wakes it.
            let arrived = self.shared.arrived.notified();
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("expected {count} Telegram messages within {timeout:?}, got {received:#?}");
            }
        }
    }

    /// The next request to `chat_id` (or to any chat, with None) gets a 429 asking to retry after
    /// `retry_after_secs`, as Telegram's flood control answers.
    pub fn answer_429_once(&self, chat_id: Option<i64>, retry_after_secs: u64) {
        self.shared.scripted.lock().unwrap().push(Scripted {
            chat_id,
            remaining: Some(1),
            status: 429,
            description: format!("Too Many Requests: retry after {retry_after_secs}"),
            retry_after: Some(retry_after_secs),
        });
    }

    /// Every request to `chat_id` from now on gets this error, e.g. 403 "Forbidden: bot was
    /// blocked by the user" or 400 "Bad Request: chat not found".
    pub fn answer_error(&self, chat_id: i64, code: u16, description: &str) {
        self.shared.scripted.lock().unwrap().push(Scripted {
            chat_id: Some(chat_id),
            remaining: None,
            status: code,
            description: description.to_owned(),
            retry_after: None,
        });
    }

    /// The next message to `chat_id` is delivered (Telegram took it) but its answer never comes:
    /// the sender is left waiting, as one killed mid-request would be.
    pub fn hold_next(&self, chat_id: i64) {
        self.shared.held.lock().unwrap().push(chat_id);
    }

    /// Keys that more than one delivered message shares, with their counts: for example
    /// `duplicates(|m| (m.chat_id, m.text.clone()))` after a worker was killed and restarted.
    pub fn duplicates<K: Ord>(&self, key: impl Fn(&SentMessage) -> K) -> Vec<(K, usize)> {
        let mut counts = BTreeMap::new();
        for message in self.received() {
            *counts.entry(key(&message)).or_insert(0) += 1;
        }
        counts.into_iter().filter(|(_, count)| *count > 1).collect()
    }
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    request: Request,
) -> Response {
    if bot.strip_prefix("bot") != Some(TOKEN) {
        return error(StatusCode::UNAUTHORIZED, "Unauthorized", None);
    }
    // Method names are case-insensitive in the Bot API; teloxide sends `SendMessage`.
    let method = match method.to_ascii_lowercase().as_str() {
        "sendmessage" => "sendMessage",
        "sendphoto" => "sendPhoto",
        _ => return error(StatusCode::NOT_FOUND, "Not Found", None),
    };
    let received_at = Instant::now();
    let params = match params(request).await {
        Ok(params) => params,
        Err(description) => return error(StatusCode::BAD_REQUEST, &description, None),
    };
    let mut sent = SentMessage {
        chat_id: chat_id(&params).unwrap_or(0),
        text: string(&params, if method == "sendPhoto" { "caption" } else { "text" }).unwrap_or_default(),
        parse_mode: string(&params, "parse_mode"),
        reply_markup: None,
        photo: string(&params, "photo"),
        method: method.to_owned(),
        status: 200,
        received_at,
    };
    let answer = check(&params, &mut sent).err().or_else(|| scripted(&shared, sent.chat_id));
    let response = match &answer {
        Some((status, description, retry_after)) => {
            sent.status = status.as_u16();
            error(*status, description, *retry_after)
        }
        None => {
            let message_id = shared.last_message_id.fetch_add(1, Ordering::SeqCst) + 1;
            axum::Json(json!({ "ok": true, "result": message_json(&sent, message_id) })).into_response()
        }
    };
    let held = {
        let mut held = shared.held.lock().unwrap();
        let index = held.iter().position(|chat| *chat == sent.chat_id && sent.status == 200);
        index.map(|index| held.remove(index)).is_some()
    };
    shared.requests.lock().unwrap().push(sent);
    shared.arrived.notify_waiters();
    if held {
        std::future::pending::<()>().await;
    }
    response
}

type Answer = (StatusCode, String, Option<u64>);

/// Refuses what Telegram refuses, with its descriptions; fills in the reply markup.
fn check(params: &Map<String, Value>, sent: &mut SentMessage) -> Result<(), Answer> {
    let bad = |description: &str| (StatusCode::BAD_REQUEST, description.to_owned(), None);
    if chat_id(params).is_none() {
        return Err(bad("Bad Request: chat_id is empty"));
    }
    if sent.method == "sendMessage" && sent.text.trim().is_empty() {
        return Err(bad("Bad Request: message text is empty"));
    }
    if sent.method == "sendPhoto" && sent.photo.as_deref().is_none_or(str::is_empty) {
        return Err(bad("Bad Request: there is no photo in the request"));
    }
    sent.reply_markup = match params.get("reply_markup") {
        None => None,
        Some(Value::String(encoded)) => Some(
            serde_json::from_str(encoded)
                .map_err(|_| bad("Bad Request: can't parse reply keyboard markup JSON object"))?,
        ),
        Some(markup) => Some(markup.clone()),
    };
    if let Some(markup) = &sent.reply_markup {
        check_keyboard(markup).map_err(|description| bad(&description))?;
    }
    Ok(())
}

fn check_keyboard(markup: &Value) -> Result<(), String> {
    let rows = markup["inline_keyboard"]
        .as_array()
        .ok_or("Bad Request: can't parse inline keyboard button: InlineKeyboardMarkup must be an Array")?;
    for row in rows {
        for button in row.as_array().ok_or("Bad Request: can't parse inline keyboard button: row must be an Array")? {
            if button["text"].as_str().is_none_or(str::is_empty) {
                return Err("Bad Request: can't parse inline keyboard button: Text buttons are unallowed".into());
            }
            let data = button["callback_data"].as_str().unwrap_or_default();
            if data.is_empty() || data.len() > 64 {
                return Err("Bad Request: BUTTON_DATA_INVALID".into());
            }
        }
    }
    Ok(())
}

/// Takes the first scripted answer for the chat, using it up if it was for a number of times.
fn scripted(shared: &Shared, chat_id: i64) -> Option<Answer> {
    let mut scripted = shared.scripted.lock().unwrap();
    let index = scripted.iter().position(|s| s.chat_id.is_none_or(|id| id == chat_id))?;
    let entry = &mut scripted[index];
    let answer = (StatusCode::from_u16(entry.status).unwrap(), entry.description.clone(), entry.retry_after);
    if let Some(remaining) = &mut entry.remaining {
        *remaining -= 1;
        if *remaining == 0 {
            scripted.remove(index);
        }
    }
    Some(answer)
}

/// The request's parameters, from a JSON, urlencoded or multipart body (as the Bot API takes them).
async fn params(request: Request) -> Result<Map<String, Value>, String> {
    let content_type =
        request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let unreadable = |e: &dyn std::fmt::Display| format!("Bad Request: can't read the request: {e}");
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, &()).await.map_err(|e| unreadable(&e))?;
        let mut params = Map::new();
        while let Some(field) = multipart.next_field().await.map_err(|e| unreadable(&e))? {
            let name = field.name().unwrap_or_default().to_owned();
            params.insert(name, Value::String(field.text().await.map_err(|e| unreadable(&e))?));
        }
        Ok(params)
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        let axum::Form(form) =
            axum::Form::<BTreeMap<String, String>>::from_request(request, &()).await.map_err(|e| unreadable(&e))?;
        Ok(form.into_iter().map(|(name, value)| (name, Value::String(value))).collect())
    } else {
        let body = axum::body::to_bytes(request.into_body(), 1 << 20).await.map_err(|e| unreadable(&e))?;
        if body.is_empty() {
            return Ok(Map::new());
        }
        serde_json::from_slice(&body).map_err(|e| unreadable(&e))
    }
}

/// A number in JSON, text in a form.
fn chat_id(params: &Map<String, Value>) -> Option<i64> {
    match params.get("chat_id")? {
        Value::Number(number) => number.as_i64(),
        Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

fn string(params: &Map<String, Value>, name: &str) -> Option<String> {
    params.get(name).and_then(Value::as_str).map(str::to_owned)
}

/// The `Message` Telegram returns for a sent message.
fn message_json(sent: &SentMessage, message_id: i64) -> Value {
    let date = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let mut message = json!({
        "message_id": message_id,
        "date": date,
        "chat": { "id": sent.chat_id, "type": "private", "first_name": "Test" },
        "from": { "id": BOT_USER_ID, "is_bot": true, "first_name": "Fieldflow", "username": "fieldflow_test_bot" },
    });
    if sent.photo.is_some() {
        message["photo"] = json!([{
            "file_id": format!("photo-{message_id}"),
            "file_unique_id": format!("unique-{message_id}"),
            "width": 640,
            "height": 480,
            "file_size": 1024,
        }]);
        if !sent.text.is_empty() {
            message["caption"] = Value::String(sent.text.clone());
        }
    } else {
        message["text"] = Value::String(sent.text.clone());
    }
    if let Some(markup) = &sent.reply_markup {
        message["reply_markup"] = markup.clone();
    }
    message
}

/// Telegram's error body; a 429 carries `parameters.retry_after`.
fn error(status: StatusCode, description: &str, retry_after: Option<u64>) -> Response {
    let mut body = json!({ "ok": false, "error_code": status.as_u16(), "description": description });
    if let Some(seconds) = retry_after {
        body["parameters"] = json!({ "retry_after": seconds });
    }
    (status, axum::Json(body)).into_response()
}
