//! Outgoing webhooks: endpoints managed by admins only, secrets shown only at create and rotate and
//! sealed in the database, signed pings and order event deliveries checked by a receiver that
//! verifies the signature as docs/WEBHOOKS.md tells receivers to, and private networks refused.

use crate::support::TestApp;
use crate::support::shop::Shop;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::post;
use domain::{OrgId, Role};
use fieldflow::webhooks::{WebhookError, deliver_event, endpoints_for};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use sqlx::PgPool;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// One request as the receiver got it.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Whether the request verifies with `secret`.
    fn verifies_with(&self, secret: &str) -> bool {
        receiver_verifies(secret, self.header("fieldflow-signature"), &self.body)
    }
}

/// A receiver's check written from docs/WEBHOOKS.md alone: take `t` and the `v1` values from the
/// header, HMAC-SHA256 `"<t>.<raw body>"` keyed with the secret, compare with a `v1` (constant
/// time), and accept only a timestamp within five minutes.
fn receiver_verifies(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for pair in header.split(',') {
        match pair.split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v1)) => signatures.push(v1.to_owned()),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    let fresh = (chrono::Utc::now().timestamp() - timestamp).abs() <= 300;
    fresh && signatures.iter().any(|hex| hex::decode(hex).is_ok_and(|tag| mac.clone().verify_slice(&tag).is_ok()))
}

#[derive(Clone, Default)]
struct Inbox {
    received: Arc<Mutex<Vec<Received>>>,
    /// What to answer; 0 is 200.
    status: Arc<AtomicU16>,
}

async fn record(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> (StatusCode, &'static str) {
    inbox.received.lock().unwrap().push(Received { headers, body });
    match inbox.status.load(Ordering::SeqCst) {
        0 => (StatusCode::OK, "thanks"),
        status => (StatusCode::from_u16(status).unwrap(), "receiver says no"),
    }
}

/// A webhook receiver on 127.0.0.1 that records every request.
struct Receiver {
    url: String,
    port: u16,
    inbox: Inbox,
}

impl Receiver {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let inbox = Inbox::default();
        let app = Router::new().route("/hook", post(record)).with_state(inbox.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url: format!("http://127.0.0.1:{port}/hook"), port, inbox }
    }

    fn answer_with(&self, status: u16) {
        self.inbox.status.store(status, Ordering::SeqCst);
    }

    fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.inbox.received.lock().unwrap())
    }
}

fn allow_private(settings: &mut fieldflow::config::Settings) {
    settings.webhooks_allow_private_networks = true;
}

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app.post("/api/v1/webhooks", Some(token), body).await;
    assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
    response.body
}

async fn ping(app: &TestApp, token: &str, id: &str) -> Value {
    let response = app.post(&format!("/api/v1/webhooks/{id}/ping"), Some(token), json!({})).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body
}

async fn stored_endpoints(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM webhook_endpoints").fetch_one(db).await.unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn admins_manage_endpoints_and_see_the_secret_only_at_create_and_rotate(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;

    let created = create(
        &app,
        &admin,
        json!({ "url": "HTTPS://Hooks.Example.com/in", "description": "ERP", "event_types": ["complete", "created"] }),
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() == 6 + 43, "{secret}");
    let endpoint = &created["endpoint"];
    let id = endpoint["id"].as_str().unwrap().to_owned();
    assert_eq!(endpoint["url"], "https://hooks.example.com/in");
    assert_eq!(endpoint["event_types"], json!(["complete", "created"]), "in lifecycle order");
    assert_eq!(endpoint["active"], true);
    assert!(endpoint.get("secret").is_none());

    let sealed: Vec<u8> = sqlx::query_scalar("SELECT secret_sealed FROM webhook_endpoints WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(&db)
        .await
        .unwrap();
    let random_part = secret.trim_start_matches("whsec_").as_bytes();
    assert!(!sealed.windows(random_part.len()).any(|w| w == random_part), "the secret is stored sealed");
    assert_eq!(app.state.secrets.open(&sealed).unwrap(), secret.as_bytes());

    let read = app.get(&format!("/api/v1/webhooks/{id}"), Some(&admin)).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(&read.body, endpoint);
    let changed = app
        .patch(
            &format!("/api/v1/webhooks/{id}"),
            Some(&admin),
            json!({ "url": "https://erp.example.com/hooks", "description": null, "event_types": [], "active": false }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["url"], "https://erp.example.com/hooks");
    assert_eq!(changed.body["description"], Value::Null);
    assert_eq!(changed.body["event_types"], json!([]));
    assert_eq!(changed.body["active"], false);

    let rotated = app.post(&format!("/api/v1/webhooks/{id}/rotate-secret"), Some(&admin), json!({})).await;
    assert_eq!(rotated.status, StatusCode::OK, "{:?}", rotated.body);
    let new_secret = rotated.body["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert_eq!(rotated.body["endpoint"]["id"], id.as_str());

    for _ in 0..2 {
        create(&app, &admin, json!({ "url": "https://example.com/more" })).await;
    }
    let first = app.get("/api/v1/webhooks?limit=2", Some(&admin)).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(first.body["items"][0]["id"], id.as_str(), "oldest first");
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/api/v1/webhooks?limit=2&cursor={cursor}"), Some(&admin)).await;
    assert_eq!(rest.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest.body["next_cursor"], Value::Null);
    for page in [&first.body, &rest.body, &read.body, &changed.body] {
        let text = page.to_string();
        assert!(!text.contains("whsec_") && !text.contains("secret"), "a secret leaked: {text}");
    }

    let deleted = app.delete(&format!("/api/v1/webhooks/{id}"), Some(&admin)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&format!("/api/v1/webhooks/{id}"), Some(&admin)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.delete(&format!("/api/v1/webhooks/{id}"), Some(&admin)).await.status, StatusCode::NOT_FOUND);
    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM audit_log WHERE subject_type = 'webhook_endpoint' AND subject_id = $1::uuid ORDER BY id",
    )
    .bind(&id)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(audited, ["webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.deleted"]);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn bad_endpoints_are_refused_in_the_json_shape_and_nothing_is_stored(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;

    let cases = [
        (json!({ "url": "ftp://example.com/in" }), "url"),
        (json!({ "url": "example.com/in" }), "url"),
        (json!({ "url": "https://user:password@example.com/in" }), "url"),
        (json!({ "url": format!("https://example.com/{}", "a".repeat(2048)) }), "url"),
        (json!({ "url": "https://example.com/in", "event_types": ["created", "order.created"] }), "event_types[1]"),
        (json!({ "url": "https://example.com/in", "description": "x".repeat(201) }), "description"),
    ];
    for (body, field) in cases {
        let response = app.post("/api/v1/webhooks", Some(&admin), body.clone()).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", response.body);
        assert_eq!(response.code(), "validation_failed");
        assert!(response.body["error"]["details"]["fields"][field].is_array(), "{body}: {:?}", response.body);
    }
    let unknown =
        app.post("/api/v1/webhooks", Some(&admin), json!({ "url": "https://e.com/", "secret": "mine" })).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "a client cannot choose the secret");
    assert_eq!(stored_endpoints(&db).await, 0);

    let id = create(&app, &admin, json!({ "url": "https://example.com/in" })).await["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = app
        .patch(&format!("/api/v1/webhooks/{id}"), Some(&admin), json!({ "url": "gopher://x", "event_types": ["nope"] }))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = refused.body["error"]["details"]["fields"].as_object().unwrap();
    assert!(fields.contains_key("url") && fields.contains_key("event_types[0]"), "{fields:?}");
    let unchanged = app.get(&format!("/api/v1/webhooks/{id}"), Some(&admin)).await;
    assert_eq!(unchanged.body["url"], "https://example.com/in");

    for _ in 1..20 {
        create(&app, &admin, json!({ "url": "https://example.com/in" })).await;
    }
    let over = app.post("/api/v1/webhooks", Some(&admin), json!({ "url": "https://example.com/in" })).await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", over.body);
    assert_eq!(over.code(), "webhook_limit_reached");
    assert_eq!(stored_endpoints(&db).await, 20);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn only_the_organizations_admins_reach_its_endpoints(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    app.with_user(org, Role::Dispatcher, "disp@acme.test").await;
    app.with_user(org, Role::Manager, "boss@acme.test").await;
    app.with_technician(org, "tech@acme.test", &[], &[]).await;
    let rival = app.with_org("Rival Repairs").await;
    app.with_user(rival, Role::Admin, "admin@rival.test").await;
    let admin = app.token_for("admin@acme.test").await;
    let id = create(&app, &admin, json!({ "url": "https://example.com/in" })).await["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.get(&format!("/api/v1/webhooks/{id}"), Some(&admin)).await.body;

    let patch = json!({ "active": false });
    let routes = [
        (Method::GET, "/api/v1/webhooks".to_owned(), None),
        (Method::POST, "/api/v1/webhooks".to_owned(), Some(json!({ "url": "https://evil.example/in" }))),
        (Method::GET, format!("/api/v1/webhooks/{id}"), None),
        (Method::PATCH, format!("/api/v1/webhooks/{id}"), Some(patch.clone())),
        (Method::POST, format!("/api/v1/webhooks/{id}/rotate-secret"), Some(json!({}))),
        (Method::POST, format!("/api/v1/webhooks/{id}/ping"), Some(json!({}))),
        (Method::DELETE, format!("/api/v1/webhooks/{id}"), None),
    ];
    for email in ["disp@acme.test", "boss@acme.test", "tech@acme.test"] {
        let token = app.token_for(email).await;
        for (method, path, body) in &routes {
            let response = app.request(method.clone(), path, Some(&token), body.clone()).await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{email} {method} {path}: {:?}", response.body);
            assert_eq!(response.code(), "forbidden");
        }
    }
    let stranger = app.token_for("admin@rival.test").await;
    for (method, path, body) in routes.iter().filter(|(_, path, _)| path.contains(&id)) {
        let response = app.request(method.clone(), path, Some(&stranger), body.clone()).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}: {:?}", response.body);
        assert_eq!(response.code(), "not_found");
    }
    let theirs = app.get("/api/v1/webhooks", Some(&stranger)).await;
    assert_eq!(theirs.body["items"], json!([]), "another organization lists none of ours");
    assert_eq!(app.get(&format!("/api/v1/webhooks/{id}"), Some(&admin)).await.body, before, "nothing changed");
    assert_eq!(stored_endpoints(&db).await, 1);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_ping_is_signed_so_that_the_receiver_verifies_it_until_the_secret_is_rotated(db: PgPool) {
    let app = TestApp::with_settings(db, allow_private).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;
    let receiver = Receiver::start().await;
    let created = create(&app, &admin, json!({ "url": receiver.url, "event_types": ["complete"] })).await;
    let secret = created["secret"].as_str().unwrap();
    let id = created["endpoint"]["id"].as_str().unwrap();

    let result = ping(&app, &admin, id).await;
    assert_eq!(result["delivered"], true, "{result:?}");
    assert_eq!(result["status_code"], 200);
    assert_eq!(result["error"], Value::Null);
    assert!(result["duration_ms"].as_u64().unwrap() < 10_000);
    let [request] = receiver.take().try_into().unwrap();
    assert!(request.verifies_with(secret), "{:?}", request.header("fieldflow-signature"));
    assert!(!request.verifies_with("whsec_someone_else"));
    let body = request.json();
    assert_eq!(body["type"], "ping");
    assert_eq!(body["organization_id"], org.to_string());
    assert_eq!(body["data"], json!({ "endpoint_id": id }));
    assert!(body["created_at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().is_ok());
    assert_eq!(request.header("fieldflow-event"), "ping");
    assert_eq!(request.header("fieldflow-delivery"), body["id"].as_str().unwrap());
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(request.header("user-agent"), "Fieldflow-Webhooks");

    let rotated = app.post(&format!("/api/v1/webhooks/{id}/rotate-secret"), Some(&admin), json!({})).await;
    let new_secret = rotated.body["secret"].as_str().unwrap();
    assert_eq!(ping(&app, &admin, id).await["delivered"], true);
    let [request] = receiver.take().try_into().unwrap();
    assert!(request.verifies_with(new_secret));
    assert!(!request.verifies_with(secret), "the old secret no longer verifies");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_ping_to_a_failing_receiver_reports_its_answer(db: PgPool) {
    let app = TestApp::with_settings(db, allow_private).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;
    let receiver = Receiver::start().await;
    receiver.answer_with(500);
    let id = create(&app, &admin, json!({ "url": receiver.url })).await["endpoint"]["id"].as_str().unwrap().to_owned();

    let result = ping(&app, &admin, &id).await;
    assert_eq!(result["delivered"], false);
    assert_eq!(result["status_code"], 500);
    assert_eq!(result["error"], "HTTP 500: receiver says no");
    assert_eq!(receiver.take().len(), 1, "a ping is not retried");

    // Nothing listens on port 1: a network error, and no status.
    app.patch(&format!("/api/v1/webhooks/{id}"), Some(&admin), json!({ "url": "http://127.0.0.1:1/hook" })).await;
    let result = ping(&app, &admin, &id).await;
    assert_eq!(result["delivered"], false);
    assert_eq!(result["status_code"], Value::Null);
    assert!(result["error"].as_str().unwrap().starts_with("cannot connect"), "{result:?}");
}

/// The `created` event of a new order of the shop, and the shop's organization.
async fn created_event(shop: &Shop, db: &PgPool) -> (Value, i64, OrgId) {
    let order = shop.new_order("Washer leaks").await;
    let (event_id, org): (i64, Uuid) =
        sqlx::query_as("SELECT id, org_id FROM order_events WHERE order_id = $1::uuid AND kind = 'created'")
            .bind(order["id"].as_str().unwrap())
            .fetch_one(db)
            .await
            .unwrap();
    (order, event_id, OrgId(org))
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn an_order_event_reaches_the_receiver_signed_with_the_documented_payload(db: PgPool) {
    let shop = Shop::open_with(db.clone(), false, allow_private).await;
    let app = &shop.app;
    let receiver = Receiver::start().await;
    let created =
        create(app, &shop.admin, json!({ "url": receiver.url, "event_types": ["created", "complete"] })).await;
    let secret = created["secret"].as_str().unwrap();
    let endpoint: Uuid = created["endpoint"]["id"].as_str().unwrap().parse().unwrap();
    let everything = create(app, &shop.admin, json!({ "url": receiver.url })).await;
    let everything: Uuid = everything["endpoint"]["id"].as_str().unwrap().parse().unwrap();
    let (order, event_id, org) = created_event(&shop, &db).await;

    assert_eq!(endpoints_for(&db, org, "created").await.unwrap(), [endpoint, everything]);
    assert_eq!(endpoints_for(&db, org, "assign").await.unwrap(), [everything]);
    assert_eq!(endpoints_for(&db, OrgId::new_v7(), "created").await.unwrap(), Vec::<Uuid>::new());

    let delivery = Uuid::now_v7();
    deliver_event(&app.state, endpoint, event_id, delivery).await.unwrap();
    let [request] = receiver.take().try_into().unwrap();
    assert!(request.verifies_with(secret));
    let (payload, at): (Value, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("SELECT payload, created_at FROM order_events WHERE id = $1")
            .bind(event_id)
            .fetch_one(&db)
            .await
            .unwrap();
    let dispatcher = app.get("/api/v1/me", Some(&shop.dispatcher)).await.body["id"].clone();
    let body = request.json();
    assert_eq!(
        body,
        json!({
            "id": delivery, "type": "created", "created_at": at, "organization_id": org,
            "data": { "order_id": order["id"], "order_number": order["number"], "event_id": event_id,
                      "actor_user_id": dispatcher, "event": payload },
        })
    );
    assert_eq!(request.header("fieldflow-event"), "created");
    assert_eq!(request.header("fieldflow-delivery"), delivery.to_string());

    // A receiver that fails: worth another attempt, with its answer for the delivery log.
    receiver.answer_with(503);
    let failed = deliver_event(&app.state, endpoint, event_id, delivery).await.unwrap_err();
    assert_eq!(failed, WebhookError::Retryable("HTTP 503: receiver says no".into()));
    assert_eq!(receiver.take().len(), 1);
    receiver.answer_with(0);

    // What no retry can fix.
    let permanent = |error: WebhookError| {
        assert!(!error.is_retryable(), "{error:?}");
        error.message().to_owned()
    };
    let rival = shop.app.with_org("Rival Repairs").await;
    let rival_endpoint = fieldflow::webhooks::service::create(
        &app.state,
        &fieldflow::actor::Actor::System { org_id: rival },
        &serde_json::from_value(json!({ "url": receiver.url })).unwrap(),
    )
    .await
    .unwrap()
    .endpoint
    .id;
    let error = deliver_event(&app.state, rival_endpoint.0, event_id, delivery).await.unwrap_err();
    assert_eq!(permanent(error), "the event belongs to another organization");
    let error = deliver_event(&app.state, endpoint, i64::MAX, delivery).await.unwrap_err();
    assert_eq!(permanent(error), "the event does not exist");
    app.patch(&format!("/api/v1/webhooks/{endpoint}"), Some(&shop.admin), json!({ "event_types": ["complete"] })).await;
    let error = deliver_event(&app.state, endpoint, event_id, delivery).await.unwrap_err();
    assert_eq!(permanent(error), "the endpoint no longer subscribes to created");
    app.patch(&format!("/api/v1/webhooks/{endpoint}"), Some(&shop.admin), json!({ "active": false })).await;
    let error = deliver_event(&app.state, endpoint, event_id, delivery).await.unwrap_err();
    assert_eq!(permanent(error), "the endpoint is inactive");
    assert_eq!(endpoints_for(&db, org, "complete").await.unwrap(), [everything], "inactive endpoints get nothing");
    app.delete(&format!("/api/v1/webhooks/{endpoint}"), Some(&shop.admin)).await;
    let error = deliver_event(&app.state, endpoint, event_id, delivery).await.unwrap_err();
    assert_eq!(permanent(error), "the endpoint was deleted");
    assert!(receiver.take().is_empty(), "nothing was sent for any of them");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn private_networks_are_refused_unless_allowed(db: PgPool) {
    let shop = Shop::open(db.clone(), false).await;
    assert!(!shop.app.state.settings.webhooks_allow_private_networks, "the default refuses");
    let app = &shop.app;
    let receiver = Receiver::start().await;
    let literal = create(app, &shop.admin, json!({ "url": receiver.url })).await;
    let literal = literal["endpoint"]["id"].as_str().unwrap().to_owned();
    let by_name = create(app, &shop.admin, json!({ "url": format!("http://localhost:{}/hook", receiver.port) })).await;
    let by_name = by_name["endpoint"]["id"].as_str().unwrap().to_owned();

    for id in [&literal, &by_name] {
        let result = ping(app, &shop.admin, id).await;
        assert_eq!(result["delivered"], false);
        assert_eq!(result["status_code"], Value::Null);
        let error = result["error"].as_str().unwrap();
        assert!(error.starts_with("refused: ") && error.ends_with("is not a public address"), "{error}");
    }
    let (_, event_id, _) = created_event(&shop, &db).await;
    let error = deliver_event(&app.state, literal.parse().unwrap(), event_id, Uuid::now_v7()).await.unwrap_err();
    assert_eq!(error, WebhookError::Permanent("refused: 127.0.0.1 is not a public address".into()));
    let error = deliver_event(&app.state, by_name.parse().unwrap(), event_id, Uuid::now_v7()).await.unwrap_err();
    assert!(!error.is_retryable(), "{error:?}");
    assert!(receiver.take().is_empty(), "the receiver was never reached");
}
