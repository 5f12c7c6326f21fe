//! Notifications through the outbox, the relay and the announce queue on real Redis: who hears
//! of what, the inbox API, events kept in the outbox while the queue is unreachable, idempotence.

use crate::support::TestApp;
use crate::support::shop::Shop;
use axum::http::StatusCode;
use domain::Role;
use fieldflow::jobs::queues::{Announce, Queues};
use fieldflow::jobs::{self, relay};
use fieldflow::notifications::service;
use fieldflow::state::AppState;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;
use tokio::sync::oneshot;

/// Runs the relay and a worker for `state` until the sender is dropped or fired.
fn start_jobs(state: &AppState) -> (oneshot::Sender<()>, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let jobs = tokio::spawn(jobs::run_jobs(state.clone(), async move {
        let _ = stopped.await;
    }));
    (stop, jobs)
}

async fn inbox(app: &TestApp, token: &str) -> Vec<Value> {
    let page = app.get("/api/v1/notifications", Some(token)).await;
    assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
    page.body["items"].as_array().unwrap().clone()
}

fn kinds(items: &[Value]) -> Vec<&str> {
    items.iter().map(|item| item["kind"].as_str().unwrap()).collect()
}

/// Waits until the inbox holds `count` notifications (the queue works in the background).
async fn wait_for(app: &TestApp, token: &str, count: usize) -> Vec<Value> {
    for _ in 0..200 {
        let items = inbox(app, token).await;
        if items.len() >= count {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the inbox never reached {count} notifications: {:?}", inbox(app, token).await);
}

async fn assign_and_accept(shop: &Shop) -> Value {
    let order = shop.new_order("Washer leaks").await;
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    shop.act_ok(&shop.tech_a, &order, "accept", json!({})).await;
    order
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn each_person_hears_only_of_what_concerns_them(db: PgPool) {
    let shop = Shop::open(db, false).await;
    let other_org = shop.app.with_org("Rival Repairs").await;
    shop.app.with_user(other_org, Role::Dispatcher, "disp@rival.test").await;
    let stranger = shop.app.token_for("disp@rival.test").await;
    let (_stop, _jobs) = start_jobs(&shop.app.state);

    let order = assign_and_accept(&shop).await;
    // One statement stores an event for all its recipients, so once these two arrived, both
    // events have reached everyone they ever will.
    let mine = wait_for(&shop.app, &shop.tech_a, 1).await;
    let office = wait_for(&shop.app, &shop.dispatcher, 1).await;
    assert_eq!(kinds(&mine), ["assign"], "the technician hears of the assignment, not of their own accept");
    assert_eq!(mine[0]["order_id"], order["id"]);
    assert_eq!(mine[0]["order_number"], order["number"]);
    assert_eq!(kinds(&office), ["accept"], "the dispatcher hears of the accept, not of their own assign");
    assert_eq!(kinds(&inbox(&shop.app, &shop.admin).await), ["accept"]);
    assert_eq!(inbox(&shop.app, &shop.tech_b).await, Vec::<Value>::new(), "another technician hears nothing");
    assert_eq!(inbox(&shop.app, &shop.manager).await, Vec::<Value>::new());
    assert_eq!(inbox(&shop.app, &stranger).await, Vec::<Value>::new(), "another organization hears nothing");

    let unread = shop.app.get("/api/v1/notifications/unread-count", Some(&shop.tech_a)).await;
    assert_eq!(unread.body, json!({ "unread": 1 }));
    // Someone else's notification cannot be marked, or even found.
    let theirs = office[0]["id"].as_str().unwrap();
    let foreign = shop.app.post(&format!("/api/v1/notifications/{theirs}/read"), Some(&shop.tech_a), json!({})).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(inbox(&shop.app, &shop.dispatcher).await[0]["read_at"].is_null());

    let own = mine[0]["id"].as_str().unwrap();
    let read = shop.app.post(&format!("/api/v1/notifications/{own}/read"), Some(&shop.tech_a), json!({})).await;
    assert_eq!(read.status, StatusCode::NO_CONTENT);
    assert!(!inbox(&shop.app, &shop.tech_a).await[0]["read_at"].is_null());
    let unread_only = shop.app.get("/api/v1/notifications?unread=true", Some(&shop.tech_a)).await;
    assert_eq!(unread_only.body["items"], json!([]));
    let all = shop.app.post("/api/v1/notifications/read-all", Some(&shop.dispatcher), json!({})).await;
    assert_eq!(all.body, json!({ "unread": 0 }));
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn events_wait_in_the_outbox_while_the_queue_is_unreachable(db: PgPool) {
    let shop = Shop::open(db.clone(), false).await;
    // Jobs pointed at a Redis that does not answer: order actions must not notice.
    let mut unreachable = shop.app.state.clone();
    let mut settings = (*unreachable.settings).clone();
    settings.redis_url = "redis://127.0.0.1:1".into();
    unreachable.settings = std::sync::Arc::new(settings);
    let (stop_unreachable, stuck) = start_jobs(&unreachable);

    let orders = [assign_and_accept(&shop).await, assign_and_accept(&shop).await];
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&db).await.unwrap();
    assert_eq!(waiting, 6, "created, assign and accept of each order wait in the outbox");
    assert_eq!(inbox(&shop.app, &shop.tech_a).await, Vec::<Value>::new());
    stop_unreachable.send(()).unwrap();
    stuck.await.unwrap().unwrap();

    let (_stop, _jobs) = start_jobs(&shop.app.state);
    let mine = wait_for(&shop.app, &shop.tech_a, 2).await;
    let mut ids: Vec<&Value> = mine.iter().map(|n| &n["order_id"]).collect();
    ids.sort_by_key(|id| id.as_str().unwrap().to_owned());
    let mut expected: Vec<&Value> = orders.iter().map(|o| &o["id"]).collect();
    expected.sort_by_key(|id| id.as_str().unwrap().to_owned());
    assert_eq!(ids, expected, "every waiting event was delivered, once");
    wait_for(&shop.app, &shop.dispatcher, 2).await;
    // The relay drains the rest in its own time (events that notify nobody are relayed too).
    let mut left: i64 = -1;
    for _ in 0..200 {
        left = sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&db).await.unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(left, 0, "the outbox drained");
    let metrics = shop.app.get("/metrics", None).await;
    let text = metrics.body.as_str().unwrap();
    assert!(text.contains("job_backlog{queue=\"announce\"} 0"), "{text}");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn announcing_an_event_again_tells_nobody_twice(db: PgPool) {
    let shop = Shop::open(db.clone(), false).await;
    assign_and_accept(&shop).await;
    let accept: i64 =
        sqlx::query_scalar("SELECT id FROM order_events WHERE kind = 'accept'").fetch_one(&db).await.unwrap();
    // The dispatcher asks for email too, so the event owes one delivery besides the inboxes.
    let email = json!({ "preferences": [{ "kind": "accept", "channel": "email", "enabled": true }] });
    shop.app.patch("/api/v1/me/notification-preferences", Some(&shop.dispatcher), email).await;
    let mut queue = Queues::connect(&shop.app.state.settings).await.unwrap().deliver;
    assert_eq!(service::announce(&shop.app.state, &mut queue, accept).await.unwrap(), 1);
    assert_eq!(service::announce(&shop.app.state, &mut queue, accept).await.unwrap(), 0);
    assert_eq!(inbox(&shop.app, &shop.dispatcher).await.len(), 1);
    assert_eq!(inbox(&shop.app, &shop.admin).await.len(), 1);
    assert_eq!(
        service::announce(&shop.app.state, &mut queue, i64::MAX).await.unwrap(),
        0,
        "an unknown event tells nobody"
    );
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_full_queue_leaves_events_in_the_outbox(db: PgPool) {
    use apalis::prelude::TaskSink;
    let shop = Shop::open(db.clone(), false).await;
    let mut queues = Queues::connect(&shop.app.state.settings).await.unwrap();
    // No worker runs: jobs pile up in the queue as they would with every worker down.
    queues.announce.push_bulk((0..2_000).map(|_| Announce { event_id: 0 }).collect()).await.unwrap();
    assign_and_accept(&shop).await;
    assert_eq!(relay::relay_batch(&shop.app.state, &mut queues).await.unwrap().events, 0);
    let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox").fetch_one(&db).await.unwrap();
    assert_eq!(waiting, 3, "the events wait in PostgreSQL, not in an overflowing queue");
}
