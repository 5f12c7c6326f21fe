//! Web push end to end: browsers subscribe through the API, an order assignment goes through the
//! deliver queue on real Redis to a fake push service that checks the VAPID token and decrypts the
//! message as the browser would; gone browsers are forgotten, a 429 is retried when it says, and
//! bad or private endpoints are refused.

use crate::support::push::{FakeBrowser, FakePushService};
use crate::support::shop::Shop;
use crate::support::{TestApp, TestResponse};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldflow::config::Settings;
use fieldflow::jobs;
use fieldflow::push::VapidKey;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::oneshot;

const SUBSCRIPTIONS: &str = "/api/v1/me/push-subscriptions";
const WAIT: Duration = Duration::from_secs(10);

/// Web push on, with a new key, and endpoints on loopback allowed (the fake push service).
fn push_on(settings: &mut Settings) {
    settings.vapid_private_key = VapidKey::generate().0.into();
    settings.push_allow_private_networks = true;
}

fn start_jobs(shop: &Shop) -> oneshot::Sender<()> {
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(jobs::run_jobs(shop.app.state.clone(), async move {
        let _ = stopped.await;
    }));
    stop
}

async fn server_key(app: &TestApp, token: &str) -> String {
    let key = app.get("/api/v1/push/vapid-public-key", Some(token)).await;
    assert_eq!(key.status, StatusCode::OK, "{:?}", key.body);
    key.body["public_key"].as_str().unwrap().to_owned()
}

/// A browser of the person signed in with `token`, subscribed through the API.
async fn subscribed(shop: &Shop, push: &FakePushService, token: &str) -> FakeBrowser {
    let browser = push.browser(&server_key(&shop.app, token).await);
    let stored = shop.app.post(SUBSCRIPTIONS, Some(token), browser.subscription()).await;
    assert_eq!(stored.status, StatusCode::CREATED, "{:?}", stored.body);
    browser
}

async fn assign(shop: &Shop, title: &str, technician: &str) -> Value {
    let order = shop.new_order(title).await;
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": technician })).await;
    order
}

/// Status, attempts and last error of the push deliveries of an order's events of one kind.
async fn push_deliveries(db: &PgPool, order: &Value, kind: &str) -> Vec<(String, i32, Option<String>)> {
    sqlx::query_as(
        "SELECT d.status, d.attempts, d.last_error FROM deliveries d JOIN order_events e ON e.id = d.event_id
         WHERE e.order_id = $1::uuid AND d.kind = $2 AND d.channel = 'push' ORDER BY d.id",
    )
    .bind(order["id"].as_str().unwrap())
    .bind(kind)
    .fetch_all(db)
    .await
    .unwrap()
}

/// Waits until the order's one push delivery of `kind` has `status`; answers its attempts and error.
async fn wait_for_push(db: &PgPool, order: &Value, kind: &str, status: &str) -> (i32, Option<String>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let found = push_deliveries(db, order, kind).await;
        if let [(now, attempts, error)] = found.as_slice()
            && now == status
        {
            return (*attempts, error.clone());
        }
        assert!(tokio::time::Instant::now() < deadline, "the push delivery never became {status}: {found:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until every outbox row is announced: every delivery of the events so far is planned.
async fn announced(db: &PgPool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while sqlx::query_scalar::<_, i64>("SELECT count(*) FROM outbox").fetch_one(db).await.unwrap() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the outbox never emptied");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn decode(key: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(key.as_str().unwrap()).unwrap()
}

async fn subscription_count(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM push_subscriptions").fetch_one(db).await.unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn an_assignment_reaches_the_technicians_browser_decrypted_and_no_one_elses(db: PgPool) {
    let push = FakePushService::start().await;
    let shop = Shop::open_with(db.clone(), false, push_on).await;
    let _stop = start_jobs(&shop);
    let mine = subscribed(&shop, &push, &shop.tech_a).await;
    let theirs = subscribed(&shop, &push, &shop.tech_b).await;

    let order = assign(&shop, "Washer leaks on spin", &shop.tech_a_id).await;
    let pushes = push.wait_for(1, WAIT).await;
    assert_eq!(wait_for_push(&db, &order, "assign", "sent").await.0, 1);

    assert_eq!(pushes[0].browser, mine.id);
    assert_eq!(pushes[0].status, 201, "{:?}", pushes[0].problem);
    let message = pushes[0].message.clone().unwrap();
    let number = order["number"].as_str().unwrap();
    assert!(message["title"].as_str().unwrap().contains(number), "{message}");
    assert!(message["body"].as_str().unwrap().contains("Washer leaks on spin"), "{message}");
    let order_id = order["id"].as_str().unwrap();
    assert_eq!(message["url"], format!("http://127.0.0.1:8080/orders/{order_id}"));
    assert_eq!(message["tag"], message["url"], "a newer message about the order replaces this one");
    assert_eq!((pushes[0].ttl.as_deref(), pushes[0].urgency.as_deref()), (Some("86400"), Some("high")));
    let heard: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT last_success_at FROM push_subscriptions WHERE endpoint = $1")
            .bind(&mine.endpoint)
            .fetch_one(&db)
            .await
            .unwrap();
    assert!(heard.is_some(), "the browser is marked as heard from");

    // The other technician's order reaches their browser only: by then the first one got nothing more.
    assign(&shop, "Dryer squeaks", &shop.tech_b_id).await;
    push.wait_for(2, WAIT).await;
    announced(&db).await;
    assert_eq!(push.received_by(&mine).len(), 1);
    let other = push.received_by(&theirs);
    assert_eq!(other.len(), 1);
    assert!(other[0].message.as_ref().unwrap()["body"].as_str().unwrap().contains("Dryer squeaks"));
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_gone_browser_is_forgotten_and_its_delivery_is_not_retried(db: PgPool) {
    let push = FakePushService::start().await;
    let shop = Shop::open_with(db.clone(), false, push_on).await;
    let _stop = start_jobs(&shop);
    let gone = subscribed(&shop, &push, &shop.tech_a).await;
    let phone = subscribed(&shop, &push, &shop.tech_a).await;
    push.answer(&gone, 410, None, None);

    // One browser gone, one took it: sent, and the gone one is forgotten.
    let first = assign(&shop, "First", &shop.tech_a_id).await;
    assert_eq!(wait_for_push(&db, &first, "assign", "sent").await.0, 1);
    assert_eq!(push.received_by(&phone).len(), 1);
    let left: Vec<String> = sqlx::query_scalar("SELECT endpoint FROM push_subscriptions").fetch_all(&db).await.unwrap();
    assert_eq!(left, std::slice::from_ref(&phone.endpoint));

    // The last one gone too: skipped after one attempt, nothing left, and no request since.
    push.answer(&phone, 410, None, None);
    let second = assign(&shop, "Second", &shop.tech_a_id).await;
    let (attempts, error) = wait_for_push(&db, &second, "assign", "skipped").await;
    assert_eq!((attempts, error.as_deref()), (1, Some("no browser subscribed")));
    assert_eq!(subscription_count(&db).await, 0);
    let requests = push.pushes().len();
    assert_eq!(requests, 3);

    // With no browser left, no push delivery is even planned.
    let third = assign(&shop, "Third", &shop.tech_a_id).await;
    announced(&db).await;
    assert!(push_deliveries(&db, &third, "assign").await.is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(push.pushes().len(), requests);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_429_is_retried_after_the_wait_it_asked_for_and_then_sent(db: PgPool) {
    let push = FakePushService::start().await;
    let shop = Shop::open_with(db.clone(), false, push_on).await;
    let _stop = start_jobs(&shop);
    let browser = subscribed(&shop, &push, &shop.tech_a).await;
    // One second: sooner than any backoff of our own (2.5 s at the least), so a retry this soon
    // follows the push service's word. The deliver job may claim up to a second early.
    push.answer(&browser, 429, Some(1), Some(1));

    let order = assign(&shop, "Busy push service", &shop.tech_a_id).await;
    let (attempts, error) = wait_for_push(&db, &order, "assign", "sent").await;
    assert_eq!(attempts, 2);
    assert!(error.unwrap().contains("429"), "the refused attempt is logged");
    let pushes = push.pushes();
    assert_eq!(pushes.iter().map(|p| p.status).collect::<Vec<_>>(), [429, 201]);
    let waited = pushes[1].received_at - pushes[0].received_at;
    assert!(waited < Duration::from_millis(2400), "retried after {waited:?}, not the 1 s asked for");
    assert!(pushes[1].message.as_ref().unwrap()["body"].as_str().unwrap().contains("Busy push service"));
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_push_preference_turns_it_off_and_on(db: PgPool) {
    let push = FakePushService::start().await;
    let shop = Shop::open_with(db.clone(), false, push_on).await;
    let _stop = start_jobs(&shop);
    let browser = subscribed(&shop, &push, &shop.tech_a).await;
    let path = "/api/v1/me/notification-preferences";
    let set = |enabled: bool| json!({ "preferences": [{ "kind": "assign", "channel": "push", "enabled": enabled }] });

    let off = shop.app.patch(path, Some(&shop.tech_a), set(false)).await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    assert!(off.body["preferences"].as_array().unwrap().contains(&json!({
        "kind": "assign", "channel": "push", "enabled": false })));
    let quiet = assign(&shop, "Not by push", &shop.tech_a_id).await;
    announced(&db).await;
    assert!(push_deliveries(&db, &quiet, "assign").await.is_empty());

    shop.app.patch(path, Some(&shop.tech_a), set(true)).await;
    let loud = assign(&shop, "By push again", &shop.tech_a_id).await;
    wait_for_push(&db, &loud, "assign", "sent").await;
    let received = push.received_by(&browser);
    assert_eq!(received.len(), 1, "only the second order came by push");
    assert!(received[0].message.as_ref().unwrap()["body"].as_str().unwrap().contains("By push again"));
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn without_a_key_push_is_off_and_its_deliveries_are_skipped(db: PgPool) {
    let push = FakePushService::start().await;
    let shop = Shop::open_with(db.clone(), false, |s| s.push_allow_private_networks = true).await;
    let _stop = start_jobs(&shop);
    let key = shop.app.get("/api/v1/push/vapid-public-key", Some(&shop.tech_a)).await;
    assert_eq!((key.status, key.code()), (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"));
    assert!(key.body["error"]["message"].as_str().unwrap().contains("FIELDFLOW_VAPID_PRIVATE_KEY"));
    let browser = push.browser("a key from before");
    let refused = shop.app.post(SUBSCRIPTIONS, Some(&shop.tech_a), browser.subscription()).await;
    assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);

    // A browser subscribed while a key was configured.
    let user: uuid::Uuid = shop.tech_a_id.parse().unwrap();
    let subscription = browser.subscription();
    let keys = &subscription["keys"];
    sqlx::query(
        "INSERT INTO push_subscriptions (id, org_id, user_id, endpoint, p256dh, auth)
         SELECT $1, org_id, id, $3, $4, $5 FROM users WHERE id = $2",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(user)
    .bind(&browser.endpoint)
    .bind(decode(&keys["p256dh"]))
    .bind(decode(&keys["auth"]))
    .execute(&db)
    .await
    .unwrap();
    let order = assign(&shop, "No key", &shop.tech_a_id).await;
    let (attempts, error) = wait_for_push(&db, &order, "assign", "skipped").await;
    assert_eq!((attempts, error.as_deref()), (1, Some("web push is not configured")));
    assert!(push.pushes().is_empty());
    let unsigned = shop.app.get("/api/v1/push/vapid-public-key", None).await;
    assert_eq!(unsigned.status, StatusCode::UNAUTHORIZED);
}

fn field_code(response: &TestResponse, field: &str) -> String {
    response.body["error"]["details"]["fields"][field][0]["code"].as_str().unwrap_or("<none>").to_owned()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn subscriptions_are_validated_updated_paged_capped_and_owned(db: PgPool) {
    let push = FakePushService::start().await;
    let shop = Shop::open_with(db.clone(), false, push_on).await;
    let key = server_key(&shop.app, &shop.tech_a).await;
    let browser = push.browser(&key);
    let good = browser.subscription();

    let mut off_curve = good.clone();
    let mut point = decode(&good["keys"]["p256dh"]);
    point[64] ^= 1;
    off_curve["keys"]["p256dh"] = json!(URL_SAFE_NO_PAD.encode(&point));
    let mut short_auth = good.clone();
    short_auth["keys"]["auth"] = json!("c2hvcnQ");
    let mut ftp = good.clone();
    ftp["endpoint"] = json!("ftp://push.example.com/x");
    for (body, field, code) in [
        (off_curve, "keys.p256dh", "invalid_key"),
        (short_auth, "keys.auth", "invalid_key"),
        (ftp, "endpoint", "invalid_url"),
    ] {
        let refused = shop.app.post(SUBSCRIPTIONS, Some(&shop.tech_a), body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
        assert_eq!(field_code(&refused, field), code, "{:?}", refused.body);
    }
    let unknown = shop.app.post(SUBSCRIPTIONS, Some(&shop.tech_a), json!({ "endpoint": browser.endpoint })).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", unknown.body);
    assert_eq!(subscription_count(&db).await, 0, "nothing stored");

    let created = shop.app.post(SUBSCRIPTIONS, Some(&shop.tech_a), good.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    // The browser renews its keys for the same endpoint: the one row is updated.
    let mut renewed = push.browser(&key).subscription();
    renewed["endpoint"] = good["endpoint"].clone();
    let again = shop.app.post(SUBSCRIPTIONS, Some(&shop.tech_a), renewed.clone()).await;
    assert_eq!((again.status, again.body["id"].as_str()), (StatusCode::OK, Some(id.as_str())));
    let stored: Vec<u8> = sqlx::query_scalar("SELECT auth FROM push_subscriptions").fetch_one(&db).await.unwrap();
    assert_eq!(stored, decode(&renewed["keys"]["auth"]));

    // Another person cannot see or delete it.
    let theirs = shop.app.get(SUBSCRIPTIONS, Some(&shop.tech_b)).await;
    assert_eq!(theirs.body["items"], json!([]));
    let stolen = shop.app.delete(&format!("{SUBSCRIPTIONS}/{id}"), Some(&shop.tech_b)).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    assert_eq!(subscription_count(&db).await, 1);

    // Eleven more browsers: the person keeps the ten newest, listed a page at a time.
    for _ in 0..11 {
        let more = shop.app.post(SUBSCRIPTIONS, Some(&shop.tech_a), push.browser(&key).subscription()).await;
        assert_eq!(more.status, StatusCode::CREATED, "{:?}", more.body);
    }
    assert_eq!(subscription_count(&db).await, 10);
    let first = shop.app.get(&format!("{SUBSCRIPTIONS}?limit=6"), Some(&shop.tech_a)).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 6);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = shop.app.get(&format!("{SUBSCRIPTIONS}?limit=6&cursor={cursor}"), Some(&shop.tech_a)).await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 4);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    let all: Vec<&Value> =
        first.body["items"].as_array().unwrap().iter().chain(rest.body["items"].as_array().unwrap()).collect();
    assert!(all.iter().all(|item| item["id"] != json!(id)), "the oldest browser was forgotten");

    let mine = all[0]["id"].as_str().unwrap();
    let deleted = shop.app.delete(&format!("{SUBSCRIPTIONS}/{mine}"), Some(&shop.tech_a)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(subscription_count(&db).await, 9);
    let twice = shop.app.delete(&format!("{SUBSCRIPTIONS}/{mine}"), Some(&shop.tech_a)).await;
    assert_eq!(twice.status, StatusCode::NOT_FOUND);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn private_network_endpoints_are_refused_in_production_mode(db: PgPool) {
    let shop = Shop::open_with(db.clone(), false, |s| s.vapid_private_key = VapidKey::generate().0.into()).await;
    let push = FakePushService::start().await;
    let good = push.browser(&server_key(&shop.app, &shop.tech_a).await).subscription();
    for (endpoint, code) in [
        (push.url.replace("http://", "https://") + "/push/x", "private_address"),
        ("https://10.1.2.3/push/x".to_owned(), "private_address"),
        ("https://[::1]:8443/push/x".to_owned(), "private_address"),
        ("https://localhost/push/x".to_owned(), "private_address"),
        (push.url.clone() + "/push/x", "invalid_url"),
    ] {
        let mut body = good.clone();
        body["endpoint"] = json!(endpoint);
        let refused = shop.app.post(SUBSCRIPTIONS, Some(&shop.tech_a), body).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{endpoint}: {:?}", refused.body);
        assert_eq!(field_code(&refused, "endpoint"), code, "{endpoint}");
    }
    assert_eq!(subscription_count(&db).await, 0);
    let mut public = good.clone();
    public["endpoint"] = json!("https://fcm.googleapis.com/fcm/send/abc");
    let accepted = shop.app.post(SUBSCRIPTIONS, Some(&shop.tech_a), public).await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{:?}", accepted.body);
}

#[test]
fn vapid_keygen_prints_a_key_pair_the_server_accepts() {
    let output =
        std::process::Command::new(env!("CARGO_BIN_EXE_fieldflow")).arg("vapid-keygen").env_clear().output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let private = text.lines().find_map(|line| line.strip_prefix("FIELDFLOW_VAPID_PRIVATE_KEY=")).unwrap();
    let public = text.lines().find_map(|line| line.strip_prefix("# public key (applicationServerKey): ")).unwrap();
    assert_eq!(VapidKey::from_base64url(private).unwrap().public_key(), public);
}
