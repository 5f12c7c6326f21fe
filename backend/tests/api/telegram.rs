//! The Telegram sender against the fake Bot API server and the real Redis: what arrives on the
//! wire, how Telegram's answers are taken, and the flood limits shared by every sender.

use crate::support::telegram::{FakeTelegram, SentMessage};
use fieldflow::config::Settings;
use fieldflow::telegram::{InlineButton, TelegramError, TelegramMessage, TelegramSender};
use serde_json::json;
use std::time::{Duration, Instant};

/// Sleeps wake a little late and requests take a little time; gaps are checked with this much
/// allowance below the configured interval.
const SLACK: Duration = Duration::from_millis(100);

fn settings(fake: &FakeTelegram) -> Settings {
    let mut settings = crate::support::redis_settings();
    fake.configure(&mut settings);
    settings
}

/// A sender as one process would have it, with its own Redis pool.
fn sender(settings: &Settings) -> TelegramSender {
    TelegramSender::new(settings, fieldflow::redis_guard::redis_pool(settings).unwrap()).unwrap()
}

fn note(chat_id: i64, text: &str) -> TelegramMessage {
    TelegramMessage { chat_id, text: text.into(), buttons: Vec::new(), photo_url: None }
}

fn order_buttons() -> Vec<Vec<InlineButton>> {
    vec![
        vec![InlineButton::new("Accept", "order:17:accept"), InlineButton::new("Decline", "order:17:decline")],
        vec![InlineButton::new("Open the order", "order:17:open")],
    ]
}

fn order_keyboard() -> serde_json::Value {
    json!({ "inline_keyboard": [
        [{ "text": "Accept", "callback_data": "order:17:accept" }, { "text": "Decline", "callback_data": "order:17:decline" }],
        [{ "text": "Open the order", "callback_data": "order:17:open" }],
    ]})
}

/// Each message arrived at least `interval` (less the slack) after the one before.
fn assert_spaced(received: &[SentMessage], interval: Duration) {
    for pair in received.windows(2) {
        let gap = pair[1].received_at - pair[0].received_at;
        assert!(gap + SLACK >= interval, "messages {gap:?} apart, the interval is {interval:?}");
    }
}

#[tokio::test]
async fn a_message_arrives_with_two_rows_of_inline_buttons() {
    let fake = FakeTelegram::start().await;
    let sender = sender(&settings(&fake));
    let message = TelegramMessage {
        chat_id: 1001,
        text: "<b>Order 17</b> is yours: Lenina 5 &amp; co".into(),
        buttons: order_buttons(),
        photo_url: None,
    };
    sender.send(&message).await.unwrap();

    let received = fake.received();
    assert_eq!(received.len(), 1);
    let sent = &received[0];
    assert_eq!(sent.method, "sendMessage");
    assert_eq!(sent.chat_id, 1001);
    assert_eq!(sent.text, "<b>Order 17</b> is yours: Lenina 5 &amp; co");
    assert_eq!(sent.parse_mode.as_deref(), Some("HTML"));
    assert_eq!(sent.reply_markup, Some(order_keyboard()));
    assert_eq!(sent.photo, None);
}

#[tokio::test]
async fn a_photo_goes_with_its_caption_and_buttons() {
    let fake = FakeTelegram::start().await;
    let sender = sender(&settings(&fake));
    let message = TelegramMessage {
        chat_id: 1002,
        text: "Before: <i>broken tap</i>".into(),
        buttons: order_buttons(),
        photo_url: Some("https://files.example.com/orders/17/before.jpg".into()),
    };
    sender.send(&message).await.unwrap();

    let received = fake.received();
    assert_eq!(received.len(), 1);
    let sent = &received[0];
    assert_eq!(sent.method, "sendPhoto");
    assert_eq!(sent.chat_id, 1002);
    assert_eq!(sent.photo.as_deref(), Some("https://files.example.com/orders/17/before.jpg"));
    assert_eq!(sent.text, "Before: <i>broken tap</i>");
    assert_eq!(sent.parse_mode.as_deref(), Some("HTML"));
    assert_eq!(sent.reply_markup, Some(order_keyboard()));
}

#[tokio::test]
async fn a_429_is_waited_out_and_the_message_arrives_later_once() {
    let fake = FakeTelegram::start().await;
    let sender = sender(&settings(&fake));
    fake.answer_429_once(Some(1003), 2);

    sender.send(&note(1003, "Order 17 moved to 14:00")).await.expect("sent after the wait, not failed");

    let requests = fake.requests();
    assert_eq!(requests.iter().map(|r| r.status).collect::<Vec<_>>(), [429, 200]);
    let waited = requests[1].received_at - requests[0].received_at;
    assert!(waited >= Duration::from_secs(2), "sent again after {waited:?}");
    assert_eq!(fake.received().len(), 1);
    assert!(fake.duplicates(|m| (m.chat_id, m.text.clone())).is_empty());
}

#[tokio::test]
async fn a_long_retry_after_goes_back_to_the_queue_and_freezes_the_chat_for_every_sender() {
    let fake = FakeTelegram::start().await;
    let settings = settings(&fake);
    assert_eq!(settings.telegram_max_retry_after_secs, 30);
    fake.answer_429_once(Some(1004), 60);

    let started = Instant::now();
    let first = sender(&settings).send(&note(1004, "first")).await;
    assert!(matches!(first, Err(TelegramError::RetryLater(wait)) if wait == Duration::from_secs(60)), "{first:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "it slept instead of handing the message back");

    // Another process finds the chat frozen and does not call Telegram at all.
    let other = sender(&settings);
    match other.send(&note(1004, "second")).await {
        Err(TelegramError::RetryLater(wait)) => {
            assert!(wait > Duration::from_secs(50) && wait <= Duration::from_secs(60), "{wait:?}");
        }
        result => panic!("expected the frozen chat to wait, got {result:?}"),
    }
    assert_eq!(fake.requests().len(), 1);
    // Only that chat is frozen.
    other.send(&note(1005, "another chat")).await.unwrap();
    assert_eq!(fake.received().len(), 1);
}

#[tokio::test]
async fn refusals_of_the_chat_or_the_message_are_permanent() {
    let fake = FakeTelegram::start().await;
    let sender = sender(&settings(&fake));
    fake.answer_error(1006, 403, "Forbidden: bot was blocked by the user");
    fake.answer_error(1007, 400, "Bad Request: chat not found");

    match sender.send(&note(1006, "hello")).await {
        Err(TelegramError::Permanent(reason)) => assert!(reason.contains("blocked by the user"), "{reason}"),
        result => panic!("expected a permanent failure, got {result:?}"),
    }
    match sender.send(&note(1007, "hello")).await {
        Err(TelegramError::Permanent(reason)) => assert!(reason.contains("chat not found"), "{reason}"),
        result => panic!("expected a permanent failure, got {result:?}"),
    }
    // A button Telegram would refuse is refused before any request.
    let mut oversized = note(1008, "hello");
    oversized.buttons = vec![vec![InlineButton::new("Accept", "x".repeat(65))]];
    assert!(matches!(sender.send(&oversized).await, Err(TelegramError::Permanent(_))));
    assert_eq!(fake.requests().len(), 2);
    assert!(fake.received().is_empty());
}

#[tokio::test]
async fn a_token_the_bot_api_refuses_is_transient() {
    let fake = FakeTelegram::start().await;
    let mut settings = settings(&fake);
    settings.telegram_bot_token = "7000000001:not-the-token".into();
    let result = sender(&settings).send(&note(1009, "hello")).await;
    assert!(matches!(result, Err(TelegramError::Transient(_))), "{result:?}");
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn messages_to_one_chat_are_an_interval_apart() {
    let fake = FakeTelegram::start().await;
    let mut settings = settings(&fake);
    settings.telegram_chat_interval_ms = 400;
    let sender = sender(&settings);
    let [one, two, three] = ["one", "two", "three"].map(|text| note(1010, text));
    let (a, b, c) = tokio::join!(sender.send(&one), sender.send(&two), sender.send(&three));
    a.unwrap();
    b.unwrap();
    c.unwrap();
    let received = fake.received();
    assert_eq!(received.len(), 3);
    assert_spaced(&received, Duration::from_millis(400));
}

#[tokio::test]
async fn two_senders_sharing_redis_keep_the_chat_interval() {
    let fake = FakeTelegram::start().await;
    let mut settings = settings(&fake);
    settings.telegram_chat_interval_ms = 400;
    let (first, second) = (sender(&settings), sender(&settings));
    let [one, two, three, four] = ["one", "two", "three", "four"].map(|text| note(1011, text));
    let results = tokio::join!(first.send(&one), second.send(&two), first.send(&three), second.send(&four));
    for result in [results.0, results.1, results.2, results.3] {
        result.unwrap();
    }
    let received = fake.received();
    assert_eq!(received.len(), 4);
    assert_spaced(&received, Duration::from_millis(400));
}

#[tokio::test]
async fn the_bot_sends_at_most_its_global_rate() {
    let fake = FakeTelegram::start().await;
    let mut settings = settings(&fake);
    settings.telegram_global_per_second = 5;
    let sender = sender(&settings);
    let mut sends = tokio::task::JoinSet::new();
    for chat_id in 1100..1110 {
        let sender = sender.clone();
        sends.spawn(async move { sender.send(&note(chat_id, "rush hour")).await });
    }
    while let Some(result) = sends.join_next().await {
        result.unwrap().unwrap();
    }

    let received = fake.received();
    assert_eq!(received.len(), 10);
    // Any six consecutive messages span at least a second: never more than five in one.
    for window in received.windows(6) {
        let span = window[5].received_at - window[0].received_at;
        assert!(span + SLACK >= Duration::from_secs(1), "six messages within {span:?}");
    }
    assert!(received[9].received_at - received[0].received_at >= Duration::from_secs(1));
}

#[tokio::test]
async fn without_a_token_messages_are_logged_not_sent() {
    let fake = FakeTelegram::start().await;
    let mut settings = settings(&fake);
    settings.telegram_bot_token = "".into();
    let mut message = note(1012, "hello");
    message.buttons = order_buttons();
    sender(&settings).send(&message).await.unwrap();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn redis_down_is_transient_and_nothing_is_sent() {
    let fake = FakeTelegram::start().await;
    let mut settings = settings(&fake);
    settings.redis_url = "redis://127.0.0.1:1".into();
    let result = sender(&settings).send(&note(1013, "hello")).await;
    assert!(matches!(result, Err(TelegramError::Transient(_))), "{result:?}");
    assert!(fake.requests().is_empty());
}
