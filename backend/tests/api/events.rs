//! The live event stream across server processes: delivery from another process, resuming with
//! `Last-Event-ID`, a technician's scope and the organization's walls.

use crate::support::TestApp;
use domain::Role;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_fieldflow");

/// A `fieldflow serve` process on a free port of the test's database; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(db: &PgPool) -> Self {
        let server = std::env::var("DATABASE_URL").unwrap();
        let (root, _) = server.rsplit_once('/').unwrap();
        let url = format!("{root}/{}", db.connect_options().get_database().unwrap());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = Command::new(BIN);
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("FIELDFLOW_DATABASE_URL", url)
            .env("FIELDFLOW_LISTEN", format!("127.0.0.1:{port}"))
            .env("FIELDFLOW_REDIS_KEY_PREFIX", format!("fieldflow-test:{}:", uuid::Uuid::new_v4()))
            .env("FIELDFLOW_LOG_FILTER", "warn")
            .stdout(Stdio::null());
        if let Ok(redis) = std::env::var("FIELDFLOW_REDIS_URL") {
            command.env("FIELDFLOW_REDIS_URL", redis);
        }
        let server = Self { child: command.spawn().unwrap(), base: format!("http://127.0.0.1:{port}") };
        fieldflow::install_crypto_provider();
        let client = reqwest::Client::new();
        for _ in 0..200 {
            if client.get(format!("{}/healthz", server.base)).send().await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not come up");
    }

    async fn call(&self, token: &str, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {body}");
        body
    }

    async fn post(&self, token: &str, path: &str, body: Value) -> Value {
        self.call(token, reqwest::Method::POST, path, body).await
    }

    async fn act(&self, token: &str, order: &Value, action: &str, body: Value) -> Value {
        self.post(token, &format!("/orders/{}/actions/{action}", order["id"].as_str().unwrap()), body).await
    }

    /// Opens a stream: `token` as a bearer header, `query` appended as is, `last_event_id` as the header.
    async fn stream(&self, token: Option<&str>, query: &str, last_event_id: Option<i64>) -> EventStream {
        let mut request = reqwest::Client::new().get(format!("{}/api/v1/events{query}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        EventStream { response, buffer: Vec::new() }
    }
}

impl Server {
    /// SIGTERM, then the exit status within 15 s.
    async fn terminate(&mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        for _ in 0..150 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not stop within 15 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received event: the `id:` and `event:` lines and the JSON of `data:`.
#[derive(Debug)]
struct Received {
    id: i64,
    kind: String,
    data: Value,
}

struct EventStream {
    response: reqwest::Response,
    /// Bytes received and not yet parsed: a chunk may end in the middle of an event.
    buffer: Vec<u8>,
}

impl EventStream {
    /// The next event, or `None` when none arrives within `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Received> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let frame = String::from_utf8(self.buffer.drain(..end + 2).collect()).unwrap();
                let (mut id, mut kind, mut data) = (None, None, None);
                for line in frame.lines() {
                    match line.split_once(':') {
                        Some(("id", value)) => id = Some(value.trim().parse::<i64>().unwrap()),
                        Some(("event", value)) => kind = Some(value.trim().to_owned()),
                        Some(("data", value)) => data = Some(serde_json::from_str::<Value>(value.trim()).unwrap()),
                        _ => {}
                    }
                }
                // Keep-alive comments carry no event.
                if let (Some(id), Some(kind), Some(data)) = (id, kind, data) {
                    return Some(Received { id, kind, data });
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await.ok()?.unwrap()?;
            self.buffer.extend_from_slice(&chunk);
        }
    }

    async fn expect(&mut self) -> Received {
        self.next(Duration::from_secs(10)).await.expect("an event within 10 s")
    }

    /// Every event until (and with) the first of `kind` on `order`.
    async fn until(&mut self, kind: &str, order: &Value) -> Vec<Received> {
        let mut events = Vec::new();
        loop {
            let event = self.expect().await;
            let done = event.kind == kind && event.data["order_id"] == order["id"];
            events.push(event);
            if done {
                return events;
            }
        }
    }

    async fn assert_quiet(&mut self) {
        if let Some(event) = self.next(Duration::from_millis(1500)).await {
            panic!("unexpected event {event:?}");
        }
    }
}

fn kinds(events: &[Received]) -> Vec<(String, Value)> {
    events.iter().map(|e| (e.kind.clone(), e.data["order_id"].clone())).collect()
}

/// An organization with an admin, two technicians, a customer with a site and a service type,
/// set up in-process on the test's database.
struct Shop {
    admin: String,
    tech_a: String,
    tech_a_id: String,
    tech_b: String,
    tech_b_id: String,
    order_body: Value,
}

impl Shop {
    async fn open(app: &TestApp, name: &str, domain_name: &str) -> Self {
        let org = app.with_org(name).await;
        let admin_email = format!("admin@{domain_name}");
        app.with_user(org, Role::Admin, &admin_email).await;
        let tech_a_id = app.with_technician(org, &format!("a@{domain_name}"), &["washers"], &["north"]).await;
        let tech_b_id = app.with_technician(org, &format!("b@{domain_name}"), &["washers"], &["south"]).await;
        let admin = app.token_for(&admin_email).await;
        let customer = app
            .post(
                "/api/v1/customers",
                Some(&admin),
                json!({ "kind": "person", "name": "Maria Ivanova", "sites": [{ "address": "Tverskaya 1" }] }),
            )
            .await;
        let service_type = app
            .post(
                "/api/v1/service-types",
                Some(&admin),
                json!({ "code": "washer", "name": "Washer repair", "default_duration_minutes": 60,
                        "default_price_minor": 1000, "required_skills": ["washers"] }),
            )
            .await;
        Self {
            tech_a: app.token_for(&format!("a@{domain_name}")).await,
            tech_b: app.token_for(&format!("b@{domain_name}")).await,
            tech_a_id: tech_a_id.to_string(),
            tech_b_id: tech_b_id.to_string(),
            order_body: json!({ "customer_id": customer.body["customer"]["id"],
                                "site_id": customer.body["customer"]["sites"][0]["id"],
                                "service_type_id": service_type.body["id"], "title": "Washer leaks" }),
            admin,
        }
    }

    async fn new_order(&self, server: &Server) -> Value {
        server.post(&self.admin, "/orders", self.order_body.clone()).await
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn events_made_through_another_process_arrive_and_a_reconnect_gets_exactly_what_it_missed(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let shop = Shop::open(&app, "Acme Repairs", "acme.test").await;
    let (one, two) = (Server::start(&db).await, Server::start(&db).await);

    let mut stream = one.stream(Some(&shop.admin), "", None).await;
    let order = shop.new_order(&two).await;
    let created = stream.expect().await;
    assert_eq!(created.kind, "created");
    assert_eq!(created.data["id"], created.id);
    assert_eq!(created.data["order_id"], order["id"]);
    assert_eq!(created.data["channel"], "api");
    assert_eq!(created.data["payload"]["number"], order["number"]);
    assert!(created.data["actor_user_id"].is_string() && created.data["created_at"].is_string());
    two.act(&shop.admin, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    let assigned = stream.expect().await;
    assert_eq!((assigned.kind.as_str(), &assigned.data["order_id"]), ("assign", &order["id"]));
    assert!(assigned.id > created.id);
    assert_eq!(assigned.data["payload"]["technician_id"], shop.tech_a_id.as_str());

    // Disconnected, the client misses three events, made through the other process.
    drop(stream);
    let second = shop.new_order(&two).await;
    two.act(&shop.admin, &second, "assign", json!({ "technician_id": shop.tech_b_id })).await;
    two.act(&shop.tech_a, &order, "accept", json!({})).await;

    let mut resumed = one.stream(Some(&shop.admin), "", Some(assigned.id)).await;
    let missed = vec![resumed.expect().await, resumed.expect().await, resumed.expect().await];
    assert_eq!(
        kinds(&missed),
        vec![
            ("created".to_owned(), second["id"].clone()),
            ("assign".to_owned(), second["id"].clone()),
            ("accept".to_owned(), order["id"].clone()),
        ]
    );
    assert!(missed.windows(2).all(|w| w[0].id < w[1].id) && missed[0].id > assigned.id);
    resumed.assert_quiet().await;
    // …and then continues live, each event once.
    two.act(&shop.tech_b, &second, "accept", json!({})).await;
    let live = resumed.expect().await;
    assert_eq!((live.kind.as_str(), &live.data["order_id"]), ("accept", &second["id"]));
    assert!(live.id > missed[2].id);
    resumed.assert_quiet().await;

    // `?after=` and `?access_token=` (for EventSource) replay the same history from the start.
    let query = format!("?after=0&access_token={}", shop.admin);
    let mut replay = two.stream(None, &query, None).await;
    let mut ids = Vec::new();
    for _ in 0..6 {
        ids.push(replay.expect().await.id);
    }
    assert_eq!(ids, [created.id, assigned.id, missed[0].id, missed[1].id, missed[2].id, live.id]);
    replay.assert_quiet().await;

    // Without a token, or with a bad starting point, no stream.
    let client = reqwest::Client::new();
    let anonymous = client.get(format!("{}/api/v1/events", one.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let bad = client
        .get(format!("{}/api/v1/events", one.base))
        .bearer_auth(&shop.admin)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);

    // An open stream does not hold up a graceful shutdown: SIGTERM ends it, and the process exits.
    let mut one = one;
    let status = one.terminate().await;
    assert!(status.success(), "{status}");
    assert!(resumed.next(Duration::from_secs(5)).await.is_none(), "the stream ended");
}

/// Writers do not take turns: an event whose transaction commits late still reaches the stream, in
/// its place before what committed meanwhile, and only the stream waits for it.
#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn an_event_committed_after_a_newer_one_still_arrives_in_commit_order(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let shop = Shop::open(&app, "Acme Repairs", "acme.test").await;
    let server = Server::start(&db).await;
    let (slow_order, order) = (shop.new_order(&server).await, shop.new_order(&server).await);
    let mut stream = server.stream(Some(&shop.admin), "", None).await;

    // A slow writer records an event of one order and has not committed yet…
    let mut slow = db.begin().await.unwrap();
    let slow_event: i64 = sqlx::query_scalar(
        "INSERT INTO order_events (org_id, order_id, kind, channel)
         SELECT org_id, id, 'note', 'api' FROM orders WHERE id = $1::text::uuid RETURNING id",
    )
    .bind(slow_order["id"].as_str().unwrap())
    .fetch_one(&mut *slow)
    .await
    .unwrap();
    // …when an action on another order commits without waiting for it…
    let assign = server.act(&shop.admin, &order, "assign", json!({ "technician_id": shop.tech_a_id }));
    let assigned = tokio::time::timeout(Duration::from_secs(5), assign).await.expect("the action does not wait");
    assert_eq!(assigned["status"], "assigned");
    // …but the stream holds the action back, since the slow event comes first and may yet commit.
    stream.assert_quiet().await;
    slow.commit().await.unwrap();
    let (first, second) = (stream.expect().await, stream.expect().await);
    assert_eq!((first.id, first.kind.as_str()), (slow_event, "note"));
    assert_eq!((second.kind.as_str(), &second.data["order_id"]), ("assign", &order["id"]));
    assert!(second.id > first.id);
    stream.assert_quiet().await;

    // Resuming after the slow event gets the action, and after the action nothing.
    let mut resumed = server.stream(Some(&shop.admin), "", Some(first.id)).await;
    assert_eq!(resumed.expect().await.id, second.id);
    resumed.assert_quiet().await;
    let mut caught_up = server.stream(Some(&shop.admin), "", Some(second.id)).await;
    caught_up.assert_quiet().await;
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_technician_sees_only_events_of_their_orders_and_no_organization_sees_another(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let shop = Shop::open(&app, "Acme Repairs", "acme.test").await;
    let rival = Shop::open(&app, "Rival Repairs", "rival.test").await;
    let (one, two) = (Server::start(&db).await, Server::start(&db).await);

    let mut tech_a = one.stream(Some(&shop.tech_a), "", None).await;
    let mut tech_b = one.stream(Some(&shop.tech_b), "", None).await;
    let mut admin = two.stream(Some(&shop.admin), "", None).await;
    let mut rival_admin = one.stream(Some(&rival.admin), "", None).await;
    let mut rival_tech = two.stream(Some(&rival.tech_a), "", None).await;

    let first = shop.new_order(&two).await;
    let second = shop.new_order(&one).await;
    two.act(&shop.admin, &first, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    one.act(&shop.admin, &second, "assign", json!({ "technician_id": shop.tech_b_id })).await;
    two.act(&shop.tech_a, &first, "accept", json!({})).await;
    one.act(&shop.tech_b, &second, "decline", json!({ "reason": "too far" })).await;
    two.act(&shop.admin, &first, "reassign", json!({ "technician_id": shop.tech_b_id })).await;
    one.act(&shop.tech_b, &first, "accept", json!({})).await;
    let third = shop.new_order(&two).await;
    two.act(&shop.admin, &third, "assign", json!({ "technician_id": shop.tech_a_id })).await;

    let e = |kind: &str, order: &Value| (kind.to_owned(), order["id"].clone());
    let seen_by_a = tech_a.until("assign", &third).await;
    assert_eq!(
        kinds(&seen_by_a),
        vec![e("assign", &first), e("accept", &first), e("reassign", &first), e("assign", &third)],
        "A sees their orders' events, and the reassignment that took one away, nothing after it"
    );
    tech_a.assert_quiet().await;
    let seen_by_b = tech_b.until("accept", &first).await;
    assert_eq!(
        kinds(&seen_by_b),
        vec![e("assign", &second), e("decline", &second), e("reassign", &first), e("accept", &first)],
        "B sees their decline, the order reassigned to them, and nothing of A's"
    );
    tech_b.assert_quiet().await;
    let seen_by_admin = admin.until("assign", &third).await;
    assert_eq!(
        kinds(&seen_by_admin),
        vec![
            e("created", &first),
            e("created", &second),
            e("assign", &first),
            e("assign", &second),
            e("accept", &first),
            e("decline", &second),
            e("reassign", &first),
            e("accept", &first),
            e("created", &third),
            e("assign", &third),
        ],
        "the admin sees everything of the organization"
    );
    assert!(seen_by_admin.windows(2).all(|w| w[0].id < w[1].id));

    // The other organization saw nothing of all that, and sees its own.
    let own = rival.new_order(&one).await;
    two.act(&rival.admin, &own, "assign", json!({ "technician_id": rival.tech_a_id })).await;
    assert_eq!(kinds(&rival_admin.until("assign", &own).await), vec![e("created", &own), e("assign", &own)]);
    assert_eq!(kinds(&rival_tech.until("assign", &own).await), vec![e("assign", &own)]);
    rival_admin.assert_quiet().await;
    // Nor does a replay from the beginning cross the wall.
    let mut replay = one.stream(Some(&rival.admin), "?after=0", None).await;
    assert_eq!(kinds(&replay.until("assign", &own).await), vec![e("created", &own), e("assign", &own)]);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_disabled_users_stream_ends(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let shop = Shop::open(&app, "Acme Repairs", "acme.test").await;
    let server = Server::start(&db).await;
    let mut stream = server.stream(Some(&shop.tech_a), "", None).await;
    server.post(&shop.admin, &format!("/users/{}/disable", shop.tech_a_id), json!({})).await;
    // The session is re-checked every 30 s; the stream then ends (the body closes).
    let ended = tokio::time::timeout(Duration::from_secs(45), async {
        loop {
            match stream.response.chunk().await {
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived the account");
}
