//! Long operations on real PostgreSQL and Redis: an order export to a CSV file, a customer import
//! with row errors, a worker that dies between chunks, cancelling, the progress stream, and who
//! may see what.

use crate::support::TestResponse;
use crate::support::files::stored_files;
use crate::support::shop::Shop;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::OperationId;
use fieldflow::jobs;
use fieldflow::jobs::queues::Queues;
use fieldflow::operations::csv;
use fieldflow::operations::{repo, runner};
use fieldflow::state::AppState;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::oneshot;
use tower::ServiceExt;

/// A shop whose operations work `chunk_rows` items per chunk, with a lease of `lease_secs` and a
/// storage directory of its own.
async fn shop(db: PgPool, chunk_rows: u32, lease_secs: u64) -> (Shop, PathBuf) {
    let dir = std::env::temp_dir().join(format!("fieldflow-test-operations-{}", uuid::Uuid::now_v7()));
    let storage = dir.clone();
    let shop = Shop::open_with(db, false, move |settings| {
        settings.storage_dir = storage;
        settings.operation_chunk_rows = chunk_rows;
        settings.job_lease_secs = lease_secs;
    })
    .await;
    (shop, dir)
}

fn start_jobs(state: &AppState) -> oneshot::Sender<()> {
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(jobs::run_jobs(state.clone(), async move {
        let _ = stopped.await;
    }));
    stop
}

/// Waits until the operation has a final status and answers it.
async fn finished(shop: &Shop, token: &str, id: &str) -> Value {
    for _ in 0..400 {
        let operation = shop.app.get(&format!("/api/v1/operations/{id}"), Some(token)).await;
        assert_eq!(operation.status, StatusCode::OK, "{:?}", operation.body);
        if ["succeeded", "failed", "cancelled"].contains(&operation.body["status"].as_str().unwrap()) {
            return operation.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("operation {id} never finished");
}

async fn upload(shop: &Shop, token: &str, content_type: &str, body: impl Into<Body>) -> TestResponse {
    let request = Request::post("/api/v1/operations/imports/customers")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .unwrap();
    shop.app.send(request).await
}

/// Starts an import and answers the operation's id.
async fn import(shop: &Shop, file: &str) -> String {
    let started = upload(shop, &shop.dispatcher, "text/csv", file.to_owned()).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{:?}", started.body);
    assert_eq!(started.body["status"], "queued");
    started.body["id"].as_str().unwrap().to_owned()
}

/// An import of `good` valid rows, then two bad ones.
fn customers_file(good: usize) -> String {
    let mut file = String::from("name,kind,phones,email,address,zone\n");
    for n in 0..good {
        file.push_str(&format!(
            "Imported {n:03},person,+7 916 555 {:02} {:02},c{n}@example.test,\"Moscow, Lenina {n}\",north\n",
            n / 100,
            n % 100
        ));
    }
    file.push_str("Bad Email,company,,not-an-email,,\n");
    file.push_str(",alien,,,,south\n");
    file
}

async fn imported_names(db: &PgPool) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM customers WHERE name LIKE 'Imported %' ORDER BY name")
        .fetch_all(db)
        .await
        .unwrap()
}

/// Another organization with an admin; answers the admin's token.
async fn other_admin(shop: &Shop) -> String {
    let org = shop.app.with_org("Rival Repairs").await;
    shop.app.with_user(org, domain::Role::Admin, "admin@rival.test").await;
    shop.app.token_for("admin@rival.test").await
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn an_export_writes_the_orders_as_csv_that_only_the_organization_downloads(db: PgPool) {
    let (shop, dir) = shop(db.clone(), 3, 60).await;
    for title in ["=HYPERLINK(\"http://evil.test\",\"x\")", "Leaks, loudly \"again\"", "+7 calls", "@SUM(A1)"] {
        shop.new_order(title).await;
    }
    for n in 0..3 {
        shop.new_order(&format!("Washer {n}")).await;
    }
    let stop = start_jobs(&shop.app.state);
    let started = shop.app.post("/api/v1/operations/exports/orders", Some(&shop.dispatcher), json!({})).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{:?}", started.body);
    let id = started.body["id"].as_str().unwrap().to_owned();
    let done = finished(&shop, &shop.dispatcher, &id).await;
    assert_eq!(done["status"], "succeeded", "{done:?}");
    assert_eq!((done["total"].as_i64(), done["done"].as_i64()), (Some(7), Some(7)));

    let file = shop.app.get(&format!("/api/v1/operations/{id}/file"), Some(&shop.dispatcher)).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(file.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/csv"));
    assert!(file.headers[header::CONTENT_DISPOSITION].to_str().unwrap().starts_with("attachment; filename="));
    let records = csv::parse(file.body.as_str().unwrap()).unwrap();
    assert_eq!(records[0].cells[..3], ["id", "number", "status"]);
    let rows: Vec<(uuid::Uuid, String, String)> =
        sqlx::query_as("SELECT id, number, title FROM orders ORDER BY id").fetch_all(&db).await.unwrap();
    assert_eq!(records.len(), rows.len() + 1);
    for (record, (id, number, title)) in records[1..].iter().zip(&rows) {
        assert_eq!(record.cells[0], id.to_string());
        assert_eq!(record.cells[1], *number);
        let shown = if title.starts_with(['=', '+', '-', '@']) { format!("'{title}") } else { title.clone() };
        assert_eq!(record.cells[4], shown, "formulas are defused, quotes survive");
    }
    assert_eq!(stored_files(&dir).len(), 1, "the file alone remains; its parts were in the database");
    let parts: i64 = sqlx::query_scalar("SELECT count(*) FROM operation_parts").fetch_one(&db).await.unwrap();
    assert_eq!(parts, 0);

    // The creator and the organization's admins see it; others of the organization do not, a
    // technician may neither export nor download, and another organization finds nothing.
    let admin = shop.app.get(&format!("/api/v1/operations/{id}/file"), Some(&shop.admin)).await;
    assert_eq!(admin.status, StatusCode::OK);
    let manager = shop.app.get(&format!("/api/v1/operations/{id}"), Some(&shop.manager)).await;
    assert_eq!(manager.status, StatusCode::NOT_FOUND);
    let listed = shop.app.get("/api/v1/operations?kind=export_orders", Some(&shop.manager)).await;
    assert_eq!(listed.body["items"], json!([]));
    let listed = shop.app.get("/api/v1/operations?kind=export_orders&status=succeeded", Some(&shop.admin)).await;
    assert_eq!(listed.body["items"][0]["id"], id.as_str());
    let technician = shop.app.post("/api/v1/operations/exports/orders", Some(&shop.tech_a), json!({})).await;
    assert_eq!(technician.status, StatusCode::FORBIDDEN);
    let technician = shop.app.get(&format!("/api/v1/operations/{id}/file"), Some(&shop.tech_a)).await;
    assert_eq!(technician.status, StatusCode::FORBIDDEN);
    let rival = other_admin(&shop).await;
    for path in [format!("/api/v1/operations/{id}"), format!("/api/v1/operations/{id}/file")] {
        let response = shop.app.get(&path, Some(&rival)).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
    }
    let response = shop.app.post(&format!("/api/v1/operations/{id}/cancel"), Some(&rival), json!({})).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let again = shop.app.post(&format!("/api/v1/operations/{id}/cancel"), Some(&shop.dispatcher), json!({})).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "operation_finished"));

    // A filter narrows the export.
    let filtered =
        shop.app.post("/api/v1/operations/exports/orders", Some(&shop.manager), json!({ "q": "washer" })).await;
    let filtered = finished(&shop, &shop.manager, filtered.body["id"].as_str().unwrap()).await;
    assert_eq!(filtered["done"], 3, "{filtered:?}");
    let _ = stop.send(());
    std::fs::remove_dir_all(dir).ok();
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn an_import_creates_the_good_rows_once_and_reports_the_bad_ones(db: PgPool) {
    let (shop, dir) = shop(db.clone(), 2, 60).await;
    // Refused whole, before anything is kept: too large, not CSV, binary, unknown columns.
    let huge = format!("name\n{}", "x,".repeat(1_100_000));
    assert_eq!(upload(&shop, &shop.dispatcher, "text/csv", huge).await.status, StatusCode::PAYLOAD_TOO_LARGE);
    let wrong_type = upload(&shop, &shop.dispatcher, "application/octet-stream", "name\nA\n").await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01".to_vec();
    let binary = upload(&shop, &shop.dispatcher, "text/csv", png).await;
    assert_eq!(binary.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(binary.body["error"]["details"]["fields"]["file"][0]["code"], "not_text");
    let unknown = upload(&shop, &shop.dispatcher, "text/csv", "name,password\nA,x\n").await;
    assert_eq!(unknown.body["error"]["details"]["fields"]["file"][0]["code"], "unknown_column");
    let technician = upload(&shop, &shop.tech_a, "text/csv", customers_file(1)).await;
    assert_eq!(technician.status, StatusCode::FORBIDDEN);
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM operations").fetch_one(&db).await.unwrap();
    assert_eq!(kept, 0);
    assert!(stored_files(&dir).is_empty());

    let stop = start_jobs(&shop.app.state);
    let id = import(&shop, &customers_file(5)).await;
    let done = finished(&shop, &shop.dispatcher, &id).await;
    assert_eq!(done["status"], "succeeded", "{done:?}");
    assert_eq!((done["total"].as_i64(), done["done"].as_i64(), done["failed"].as_i64()), (Some(7), Some(5), Some(2)));
    let errors: Vec<(u64, String, String)> = done["result"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["field"].as_str().unwrap().into(), e["code"].as_str().unwrap().into()))
        .collect();
    let fields: Vec<(u64, &str)> = errors.iter().map(|(row, field, _)| (*row, field.as_str())).collect();
    assert_eq!(fields, [(7, "email"), (8, "kind"), (8, "address"), (8, "name")], "{errors:?}");
    let names = imported_names(&db).await;
    assert_eq!(names, (0..5).map(|n| format!("Imported {n:03}")).collect::<Vec<_>>());
    let sites: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM customer_sites s JOIN customers c ON c.id = s.customer_id
         WHERE c.name LIKE 'Imported %' AND s.zone = 'north'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(sites, 5);
    assert!(stored_files(&dir).is_empty(), "the upload is deleted once the import ended");
    let _ = stop.send(());
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_worker_that_dies_between_chunks_is_resumed_at_its_checkpoint(db: PgPool) {
    let (shop, _dir) = shop(db.clone(), 2, 1).await;
    let id = import(&shop, &customers_file(7)).await;
    let operation = OperationId(id.parse().unwrap());
    // A worker claims it, commits one chunk, and dies holding the lease.
    let state = &shop.app.state;
    let mut queues = Queues::connect(&state.settings).await.unwrap();
    let (holder, _) = repo::claim(&state.db, operation, state.settings.job_lease()).await.unwrap().unwrap();
    let mut memo = runner::Memo::default();
    assert!(runner::step(state, &mut queues, operation, holder, &mut memo).await.unwrap());
    assert_eq!(imported_names(&db).await.len(), 2);
    let held = shop.app.get(&format!("/api/v1/operations/{id}"), Some(&shop.dispatcher)).await;
    assert_eq!((held.body["status"].as_str(), held.body["done"].as_i64()), (Some("running"), Some(2)));

    // Another process's jobs take over once the lease ran out, from the checkpoint.
    let stop = start_jobs(state);
    let done = finished(&shop, &shop.dispatcher, &id).await;
    assert_eq!(done["status"], "succeeded", "{done:?}");
    assert_eq!((done["done"].as_i64(), done["failed"].as_i64()), (Some(7), Some(2)));
    assert_eq!(imported_names(&db).await, (0..7).map(|n| format!("Imported {n:03}")).collect::<Vec<_>>());
    // The dead worker, back to life, finds the operation no longer its own.
    assert!(!runner::step(state, &mut queues, operation, holder, &mut memo).await.unwrap());
    assert_eq!(imported_names(&db).await.len(), 7);
    let _ = stop.send(());
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn cancelling_stops_an_operation_between_chunks(db: PgPool) {
    let (shop, dir) = shop(db.clone(), 2, 60).await;
    // Not started yet: cancelled at once.
    let waiting = import(&shop, &customers_file(3)).await;
    let cancelled =
        shop.app.post(&format!("/api/v1/operations/{waiting}/cancel"), Some(&shop.dispatcher), json!({})).await;
    assert_eq!(cancelled.status, StatusCode::OK, "{:?}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");

    // Running: it stops before its next chunk; what was done stays.
    let id = import(&shop, &customers_file(9)).await;
    let operation = OperationId(id.parse().unwrap());
    let state = &shop.app.state;
    let mut queues = Queues::connect(&state.settings).await.unwrap();
    let (holder, _) = repo::claim(&state.db, operation, state.settings.job_lease()).await.unwrap().unwrap();
    let mut memo = runner::Memo::default();
    assert!(runner::step(state, &mut queues, operation, holder, &mut memo).await.unwrap());
    let asked = shop.app.post(&format!("/api/v1/operations/{id}/cancel"), Some(&shop.admin), json!({})).await;
    assert_eq!(asked.status, StatusCode::OK);
    assert_eq!(asked.body["status"], "running");
    assert!(asked.body["cancel_requested_at"].is_string());
    assert!(!runner::step(state, &mut queues, operation, holder, &mut memo).await.unwrap());
    let done = finished(&shop, &shop.dispatcher, &id).await;
    assert_eq!(done["status"], "cancelled", "{done:?}");
    assert_eq!(done["done"], 2);
    assert!(done["done"].as_i64() < done["total"].as_i64());
    assert_eq!(imported_names(&db).await.len(), 2);
    let again = shop.app.post(&format!("/api/v1/operations/{id}/cancel"), Some(&shop.dispatcher), json!({})).await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "operation_finished"));
    assert_eq!(again.body["error"]["details"]["status"], "cancelled");
    assert!(stored_files(&dir).is_empty(), "the uploads of cancelled imports are deleted");
}

/// Reads the `data:` of Server-Sent Events from a response body, one event at a time.
struct Events {
    body: Body,
    text: String,
}

impl Events {
    /// The next event's data, or `None` when the stream ended.
    async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let event: String = self.text.drain(..end + 2).collect();
                match event.lines().find_map(|line| line.strip_prefix("data:")) {
                    Some(data) => return Some(serde_json::from_str(data.trim()).unwrap()),
                    None => continue,
                }
            }
            let frame = tokio::time::timeout(Duration::from_secs(10), self.body.frame()).await;
            match frame.expect("no event within 10 s") {
                Some(frame) => {
                    if let Ok(data) = frame.unwrap().into_data() {
                        self.text.push_str(std::str::from_utf8(&data).unwrap());
                    }
                }
                None => return None,
            }
        }
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_progress_stream_shows_growing_progress_and_ends_with_the_final_status(db: PgPool) {
    let (shop, _dir) = shop(db, 2, 60).await;
    let id = import(&shop, &customers_file(3)).await;
    let rival = other_admin(&shop).await;
    let foreign = shop.app.get(&format!("/api/v1/operations/{id}/events?access_token={rival}"), None).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    let anonymous = shop.app.get(&format!("/api/v1/operations/{id}/events"), None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    let request = Request::get(format!("/api/v1/operations/{id}/events?access_token={}", shop.dispatcher))
        .body(Body::empty())
        .unwrap();
    let response = shop.app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/event-stream"));
    let mut events = Events { body: response.into_body(), text: String::new() };
    let first = events.next().await.unwrap();
    assert_eq!(
        (first["status"].as_str(), first["done"].as_i64()),
        (Some("queued"), Some(0)),
        "the state comes at once"
    );

    // A worker works through it chunk by chunk; each committed chunk reaches the stream.
    let operation = OperationId(id.parse().unwrap());
    let state = &shop.app.state;
    let mut queues = Queues::connect(&state.settings).await.unwrap();
    let (holder, _) = repo::claim(&state.db, operation, state.settings.job_lease()).await.unwrap().unwrap();
    assert_eq!(events.next().await.unwrap()["status"], "running");
    let mut memo = runner::Memo::default();
    let mut seen = Vec::new();
    loop {
        let more = runner::step(state, &mut queues, operation, holder, &mut memo).await.unwrap();
        let event = events.next().await.unwrap();
        seen.push((event["done"].as_i64().unwrap() + event["failed"].as_i64().unwrap(), event["status"].clone()));
        if !more {
            break;
        }
    }
    assert_eq!(seen, [(2, json!("running")), (4, json!("running")), (5, json!("succeeded"))]);
    assert!(events.next().await.is_none(), "the stream ends after the final status");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_broadcast_reaches_each_targeted_technician_once_and_no_other_organization(db: PgPool) {
    let telegram = crate::support::telegram::FakeTelegram::start().await;
    let dir = std::env::temp_dir().join(format!("fieldflow-test-operations-{}", uuid::Uuid::now_v7()));
    let shop = Shop::open_with(db.clone(), false, |settings| {
        telegram.configure(settings);
        settings.telegram_chat_interval_ms = 10;
        settings.storage_dir = dir;
        settings.operation_chunk_rows = 1;
    })
    .await;
    let org: uuid::Uuid =
        sqlx::query_scalar("SELECT org_id FROM users WHERE email = 'a@acme.test'").fetch_one(&db).await.unwrap();
    shop.app.with_technician(domain::OrgId(org), "c@acme.test", &["washing_machines"], &["north"]).await;
    let rival = other_admin(&shop).await;
    let rival_org: uuid::Uuid =
        sqlx::query_scalar("SELECT org_id FROM users WHERE email = 'admin@rival.test'").fetch_one(&db).await.unwrap();
    let outsider = shop.app.with_technician(domain::OrgId(rival_org), "x@rival.test", &[], &["north"]).await;
    sqlx::query(
        "UPDATE users SET telegram_user_id = CASE email WHEN 'a@acme.test' THEN 1001 WHEN 'b@acme.test' THEN 1002
                                              WHEN 'c@acme.test' THEN 1003 WHEN 'x@rival.test' THEN 2001
                                              WHEN 'disp@acme.test' THEN 1009 END
         WHERE email IN ('a@acme.test', 'b@acme.test', 'c@acme.test', 'x@rival.test', 'disp@acme.test')",
    )
    .execute(&db)
    .await
    .unwrap();

    // Technicians start nothing; another organization's technician cannot be named.
    let message = json!({ "subject": "Storm warning", "body": "Secure the ladders on the vans." });
    let technician = shop.app.post("/api/v1/operations/broadcasts", Some(&shop.tech_a), message.clone()).await;
    assert_eq!(technician.status, StatusCode::FORBIDDEN);
    let named = json!({ "subject": "Hi", "body": "x", "technician_ids": [outsider] });
    let stranger = shop.app.post("/api/v1/operations/broadcasts", Some(&shop.dispatcher), named).await;
    assert_eq!(stranger.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stranger.body["error"]["details"]["fields"]["technician_ids"][0]["code"], "unknown_technician");
    let rival_sends =
        shop.app.post("/api/v1/operations/broadcasts", Some(&rival), json!({ "subject": "Rival", "body": "x" })).await;
    assert_eq!(rival_sends.status, StatusCode::ACCEPTED, "{:?}", rival_sends.body);
    let rival_id = rival_sends.body["id"].as_str().unwrap().to_owned();

    let stop = start_jobs(&shop.app.state);
    let started = shop.app.post("/api/v1/operations/broadcasts", Some(&shop.dispatcher), message).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{:?}", started.body);
    assert_eq!(started.body["total"], 3);
    let done = finished(&shop, &shop.dispatcher, started.body["id"].as_str().unwrap()).await;
    assert_eq!((done["status"].as_str(), done["done"].as_i64()), (Some("succeeded"), Some(3)), "{done:?}");
    let zoned = json!({ "subject": "North", "body": "Bridge closed.", "zone": "north" });
    let zoned = shop.app.post("/api/v1/operations/broadcasts", Some(&shop.admin), zoned).await;
    assert_eq!(zoned.body["total"], 2, "{:?}", zoned.body);
    finished(&shop, &shop.admin, zoned.body["id"].as_str().unwrap()).await;
    let sent = telegram.wait_for(6, Duration::from_secs(15)).await;
    let mut chats: Vec<(i64, bool)> = sent.iter().map(|m| (m.chat_id, m.text.contains("Storm warning"))).collect();
    chats.sort_unstable();
    // A, B and C once with the storm warning; A and C once more for the north; the rival's own.
    assert_eq!(chats, [(1001, false), (1001, true), (1002, true), (1003, false), (1003, true), (2001, false)]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(telegram.received().len(), 6, "nothing more arrives");
    assert_eq!(telegram.duplicates(|m| (m.chat_id, m.text.clone())), Vec::new());
    assert!(!telegram.received().iter().any(|m| m.chat_id == 1009), "the office is not a recipient");
    let inbox: i64 =
        sqlx::query_scalar("SELECT count(*) FROM notifications WHERE kind = 'broadcast'").fetch_one(&db).await.unwrap();
    assert_eq!(inbox, 6, "each told technician has it in the inbox too");
    let rival_done = finished(&shop, &rival, &rival_id).await;
    assert_eq!(rival_done["done"], 1);
    let _ = stop.send(());
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn cancelling_a_broadcast_withdraws_what_is_not_sent(db: PgPool) {
    let (shop, _dir) = shop(db.clone(), 1, 60).await;
    sqlx::query("UPDATE users SET telegram_user_id = 1000 + ascii(email) WHERE role = 'technician'")
        .execute(&db)
        .await
        .unwrap();
    let message = json!({ "subject": "Storm warning", "body": "Secure the ladders." });
    let started = shop.app.post("/api/v1/operations/broadcasts", Some(&shop.dispatcher), message).await;
    assert_eq!(started.body["total"], 2, "{:?}", started.body);
    let id = started.body["id"].as_str().unwrap().to_owned();
    let operation = OperationId(id.parse().unwrap());
    // One chunk plans the first technician's messages; no worker sends them yet.
    let state = &shop.app.state;
    let mut queues = Queues::connect(&state.settings).await.unwrap();
    let (holder, _) = repo::claim(&state.db, operation, state.settings.job_lease()).await.unwrap().unwrap();
    let mut memo = runner::Memo::default();
    assert!(runner::step(state, &mut queues, operation, holder, &mut memo).await.unwrap());
    let source = format!("broadcast:{id}");
    let statuses = |db: PgPool, source: String| async move {
        sqlx::query_scalar::<_, String>("SELECT status FROM deliveries WHERE source = $1 ORDER BY id")
            .bind(source)
            .fetch_all(&db)
            .await
            .unwrap()
    };
    assert_eq!(statuses(db.clone(), source.clone()).await, ["pending"]);
    shop.app.post(&format!("/api/v1/operations/{id}/cancel"), Some(&shop.dispatcher), json!({})).await;
    assert!(!runner::step(state, &mut queues, operation, holder, &mut memo).await.unwrap());
    let done = shop.app.get(&format!("/api/v1/operations/{id}"), Some(&shop.dispatcher)).await;
    assert_eq!((done.body["status"].as_str(), done.body["done"].as_i64()), (Some("cancelled"), Some(1)));
    assert_eq!(statuses(db, source).await, ["skipped"], "the unsent message was withdrawn");
}
