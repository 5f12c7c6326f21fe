//! Periodic jobs on the job queue with real PostgreSQL and Redis: each slot queued once by racing
//! schedulers, a lost run queued again after its lease, the SLA scanner, the daily summary and the
//! clean-up. Time is passed in as `now` rather than waited for.

use crate::support::TestApp;
use crate::support::files::{PDF, order_of_a, upload};
use crate::support::shop::Shop;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, Utc};
use domain::Role;
use fieldflow::jobs::queues::{self, Queues};
use fieldflow::jobs::scheduler::schedule;
use fieldflow::jobs::stop::StopSignal;
use fieldflow::jobs::workers;
use fieldflow::orders::sla;
use fieldflow::periodic::{Task, cleanup, summary};
use fieldflow::state::AppState;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::BTreeSet;
use uuid::Uuid;

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc)
}

async fn periodic_rows(db: &PgPool) -> Vec<(String, DateTime<Utc>, i32, Option<String>)> {
    sqlx::query_as("SELECT task, slot, attempts, outcome FROM periodic_runs ORDER BY task, slot")
        .fetch_all(db)
        .await
        .unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn racing_schedulers_queue_each_slot_once(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let mut one = Queues::connect(&app.state.settings).await.unwrap();
    let mut two = Queues::connect(&app.state.settings).await.unwrap();
    let now = at("2026-11-21T10:17:45Z");
    let (a, b) =
        tokio::join!(schedule(&app.state, &mut one.periodic, now), schedule(&app.state, &mut two.periodic, now));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), Task::ALL.len(), "{a:?} {b:?}");
    assert_eq!(queues::waiting(&mut one.periodic).await.unwrap(), Task::ALL.len());
    let rows = periodic_rows(&db).await;
    assert_eq!(rows.len(), Task::ALL.len());
    assert!(rows.iter().any(|(task, slot, ..)| task == "sla_scan" && *slot == at("2026-11-21T10:17:00Z")));
    // Later in the same slots: nothing new; in the next SLA minute, only the minute's tasks.
    assert!(schedule(&app.state, &mut one.periodic, now + Duration::seconds(5)).await.unwrap().is_empty());
    let next = schedule(&app.state, &mut two.periodic, at("2026-11-21T10:18:00Z")).await.unwrap();
    let tasks: BTreeSet<_> = next.iter().map(|run| run.task.as_str()).collect();
    assert_eq!(tasks, BTreeSet::from(["daily_summary", "offer_expiry", "sla_scan"]));
}

/// Deletes every Redis key of this test's prefix: Redis "lost" the queued jobs.
async fn flush_redis(state: &AppState) {
    let client =
        redis::Client::open(std::env::var("FIELDFLOW_REDIS_URL").unwrap_or("redis://127.0.0.1:6379".into())).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let pattern = format!("{}*", state.settings.redis_key_prefix);
    let keys: Vec<String> = redis::cmd("KEYS").arg(&pattern).query_async(&mut conn).await.unwrap();
    if !keys.is_empty() {
        let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await.unwrap();
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_run_whose_job_was_lost_is_queued_again_after_the_lease_and_done_once(db: PgPool) {
    let storage = std::env::temp_dir().join(format!("fieldflow-test-periodic-{}", Uuid::now_v7()));
    let app = TestApp::with_settings(db.clone(), |settings| {
        settings.job_lease_secs = 2;
        settings.storage_dir = storage;
    })
    .await;
    let mut queues = Queues::connect(&app.state.settings).await.unwrap();
    // The start of this hour: every task's slot starts there, and the lease counts from it.
    let now = Task::CleanUp.slot(Utc::now());
    assert_eq!(schedule(&app.state, &mut queues.periodic, now).await.unwrap().len(), Task::ALL.len());
    flush_redis(&app.state).await;
    assert_eq!(queues::waiting(&mut queues.periodic).await.unwrap(), 0);
    // Within the lease nothing is queued again; after it, every run is.
    assert!(schedule(&app.state, &mut queues.periodic, now + Duration::seconds(1)).await.unwrap().is_empty());
    let again = schedule(&app.state, &mut queues.periodic, now + Duration::seconds(3)).await.unwrap();
    assert_eq!(again.len(), Task::ALL.len());
    assert_eq!(queues::waiting(&mut queues.periodic).await.unwrap(), Task::ALL.len());

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let stop_signal = StopSignal::on(async move {
        let _ = stopped.await;
    });
    let workers = tokio::spawn(workers::run_workers(app.state.clone(), queues.clone(), stop_signal));
    let mut done = 0;
    for _ in 0..200 {
        done = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM periodic_runs WHERE finished_at IS NOT NULL")
            .fetch_one(&db)
            .await
            .unwrap();
        if done == 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        done,
        5,
        "{:?}",
        sqlx::query_as::<_, (String, Option<String>)>("SELECT task, detail FROM periodic_runs")
            .fetch_all(&db)
            .await
            .unwrap()
    );
    for (task, _, attempts, outcome) in periodic_rows(&db).await {
        assert_eq!((attempts, outcome.as_deref()), (2, Some("done")), "{task}");
    }
    // Done runs are never queued again, however late it gets.
    let late = now + Duration::seconds(20);
    assert!(schedule(&app.state, &mut queues.periodic, late).await.unwrap().is_empty());
    let metrics = app.state.metrics.as_ref().unwrap().render();
    assert!(metrics.contains(r#"periodic_runs_total{task="sla_scan",outcome="done"}"#), "{metrics}");
    assert!(metrics.contains(r#"periodic_last_success_timestamp_seconds{task="clean_up"}"#), "{metrics}");
    stop.send(()).unwrap();
    workers.await.unwrap().unwrap();
}

async fn events_of(db: &PgPool, order: &Value, kind: &str) -> Vec<i64> {
    sqlx::query_scalar("SELECT id FROM order_events WHERE order_id = $1::uuid AND kind = $2 ORDER BY id")
        .bind(order["id"].as_str().unwrap())
        .bind(kind)
        .fetch_all(db)
        .await
        .unwrap()
}

async fn user_id(db: &PgPool, email: &str) -> Uuid {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(email).fetch_one(db).await.unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_sla_scanner_warns_once_then_reports_the_breach_and_rearms_for_a_new_due_time(db: PgPool) {
    let shop = Shop::open(db.clone(), false).await;
    let state = &shop.app.state;
    let rival = shop.app.with_org("Rival Repairs").await;
    shop.app.with_user(rival, Role::Admin, "admin@rival.test").await;
    // Due 60 minutes after creation (the service type's SLA): at risk in the last 12 minutes.
    let order = shop.new_order("Washer leaks").await;
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    let cancelled = shop.new_order("Changed their mind").await;
    shop.act_ok(&shop.dispatcher, &cancelled, "cancel", json!({ "reason": "not needed" })).await;
    let created: DateTime<Utc> = serde_json::from_value(order["created_at"].clone()).unwrap();

    assert_eq!(sla::scan(state, created + Duration::minutes(40)).await.unwrap(), sla::Raised::default());
    let warned = sla::scan(state, created + Duration::minutes(50)).await.unwrap();
    assert_eq!(warned, sla::Raised { at_risk: 1, breached: 0 });
    assert_eq!(sla::scan(state, created + Duration::minutes(55)).await.unwrap(), sla::Raised::default());
    assert_eq!(events_of(&db, &order, "sla_at_risk").await.len(), 1);
    let breached = sla::scan(state, created + Duration::minutes(61)).await.unwrap();
    assert_eq!(breached, sla::Raised { at_risk: 0, breached: 1 });
    assert_eq!(sla::scan(state, created + Duration::minutes(90)).await.unwrap(), sla::Raised::default());
    assert_eq!(events_of(&db, &order, "sla_breached").await.len(), 1);
    assert!(events_of(&db, &cancelled, "sla_breached").await.is_empty());

    // The office of the order's organization and its technician hear; nobody else.
    let mut deliver = Queues::connect(&state.settings).await.unwrap().deliver;
    let event = events_of(&db, &order, "sla_breached").await[0];
    fieldflow::notifications::service::announce(state, &mut deliver, event).await.unwrap();
    let heard: BTreeSet<Uuid> = sqlx::query_scalar("SELECT user_id FROM notifications WHERE event_id = $1")
        .bind(event)
        .fetch_all(&db)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let expected = BTreeSet::from([
        user_id(&db, "admin@acme.test").await,
        user_id(&db, "disp@acme.test").await,
        user_id(&db, "a@acme.test").await,
    ]);
    assert_eq!(heard, expected);

    // A new due time re-arms both alerts.
    sqlx::query("UPDATE orders SET sla_due_at = $2 WHERE id = $1::uuid")
        .bind(order["id"].as_str().unwrap())
        .bind(created + Duration::minutes(180))
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(sla::scan(state, created + Duration::minutes(91)).await.unwrap(), sla::Raised::default());
    let warned = sla::scan(state, created + Duration::minutes(150)).await.unwrap();
    assert_eq!(warned, sla::Raised { at_risk: 1, breached: 0 });
    let breached = sla::scan(state, created + Duration::minutes(181)).await.unwrap();
    assert_eq!(breached, sla::Raised { at_risk: 0, breached: 1 });
    assert_eq!(events_of(&db, &order, "sla_at_risk").await.len(), 2);
    assert_eq!(events_of(&db, &order, "sla_breached").await.len(), 2);
    // The event names the due time it is about, and went to the outbox like every order event.
    let payload: Value = sqlx::query_scalar("SELECT payload FROM order_events WHERE id = $1")
        .bind(events_of(&db, &order, "sla_breached").await[1])
        .fetch_one(&db)
        .await
        .unwrap();
    let due: DateTime<Utc> = serde_json::from_value(payload["sla_due_at"].clone()).unwrap();
    assert_eq!(due, created + Duration::minutes(180));
}

/// Copies `order` `copies` times, each due at `due` (and created an hour before it).
async fn clone_order(db: &PgPool, order: &Value, copies: i32, label: &str, due: DateTime<Utc>) {
    sqlx::query(
        "INSERT INTO orders
         SELECT (jsonb_populate_record(NULL::orders, to_jsonb(o) || jsonb_build_object(
                    'id', gen_random_uuid(), 'number', o.number || $3 || n, 'tracking_token', $3 || n,
                    'created_at', $4::timestamptz - interval '1 hour', 'sla_due_at', $4::timestamptz))).*
         FROM orders o, generate_series(1, $2) n WHERE o.id = $1::uuid",
    )
    .bind(order["id"].as_str().unwrap())
    .bind(copies)
    .bind(label)
    .bind(due)
    .execute(db)
    .await
    .unwrap();
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_sla_scanner_alerts_on_new_crossings_only_and_in_bounded_runs(db: PgPool) {
    let shop = Shop::open(db.clone(), false).await;
    let state = &shop.app.state;
    let order = shop.new_order("Washer leaks").await;
    let now = Utc::now();
    // A burst of orders breached ten minutes ago, and history that breached long ago.
    let burst = i32::try_from(sla::MAX_PER_RUN).unwrap() + 20;
    clone_order(&db, &order, burst, "-burst-", now - Duration::minutes(10)).await;
    clone_order(&db, &order, 30, "-old-", now - sla::LOOK_BACK - Duration::minutes(5)).await;

    let first = sla::scan(state, now).await.unwrap();
    assert_eq!(first, sla::Raised { at_risk: 0, breached: sla::MAX_PER_RUN }, "one run raises a bounded batch");
    let second = sla::scan(state, now + Duration::minutes(1)).await.unwrap();
    assert_eq!(second, sla::Raised { at_risk: 0, breached: 20 }, "the next run raises the rest");
    assert_eq!(sla::scan(state, now + Duration::minutes(2)).await.unwrap(), sla::Raised::default());
    let old_alerts = count(
        &db,
        "SELECT count(*) FROM sla_alerts a JOIN orders o ON o.id = a.order_id WHERE o.number LIKE '%-old-%'",
    )
    .await;
    assert_eq!(old_alerts, 0, "a breach older than the look-back is not news");
    let burst_events = count(&db, "SELECT count(*) FROM order_events WHERE kind = 'sla_breached'").await;
    assert_eq!(burst_events, i64::from(burst), "each new breach raised one event");
}
/// Counts rows matching a condition.
async fn count(db: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db).await.unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_clean_up_removes_what_expired_and_keeps_what_is_live(db: PgPool) {
    let storage = std::env::temp_dir().join(format!("fieldflow-test-periodic-{}", Uuid::now_v7()));
    let dir = storage.clone();
    let shop = Shop::open_with(db.clone(), false, move |settings| settings.storage_dir = dir).await;
    let state = &shop.app.state;
    let now = Utc::now() + Duration::hours(2);

    // Sessions: the Shop's logins are live; one expired and one revoked go.
    shop.app.login_as("boss@acme.test").await;
    shop.app.login_as("disp@acme.test").await;
    let live_sessions = count(&db, "SELECT count(*) FROM sessions").await;
    sqlx::query(
        "UPDATE sessions SET expires_at = now() - interval '1 minute'
         WHERE id = (SELECT id FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = 'boss@acme.test') ORDER BY created_at DESC LIMIT 1)",
    )
    .execute(&db)
    .await
    .unwrap();
    sqlx::query(
        "UPDATE sessions SET revoked_at = now()
         WHERE id = (SELECT id FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = 'disp@acme.test') ORDER BY created_at DESC LIMIT 1)",
    )
    .execute(&db)
    .await
    .unwrap();
    // Password links: used, expired, live.
    for (used, expires) in
        [("now()", "now() + interval '1 day'"), ("NULL", "now()"), ("NULL", "now() + interval '1 day'")]
    {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO password_reset_tokens (token_hash, user_id, purpose, expires_at, used_at)
             SELECT gen_random_uuid()::text::bytea, id, 'reset', {expires}, {used} FROM users WHERE email = 'boss@acme.test'"
        )))
        .execute(&db)
        .await
        .unwrap();
    }
    // Periodic runs: finished long ago, finished just now, and owed.
    sqlx::query(
        "INSERT INTO periodic_runs (task, slot, leased_at, finished_at, outcome) VALUES
             ('sla_scan', $1 - interval '8 days', $1 - interval '8 days', $1 - interval '8 days', 'done'),
             ('sla_scan', $1 - interval '1 minute', $1, $1, 'done'),
             ('clean_up', $1 - interval '9 days', $1 - interval '9 days', NULL, NULL)",
    )
    .bind(now)
    .execute(&db)
    .await
    .unwrap();
    // Deliveries: sent long ago goes; sent lately and pending stay.
    for (source, status, age) in [("old", "sent", "40 days"), ("new", "sent", "1 day"), ("owed", "pending", "40 days")]
    {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO deliveries (id, org_id, source, kind, channel, user_id, recipient, status, updated_at,
                                     subject, body)
             SELECT gen_random_uuid(), org_id, '{source}', 'broadcast', 'email', id, id::text, '{status}',
                    now() - interval '{age}', 'Hello', 'Hello'
             FROM users WHERE email = 'boss@acme.test'"
        )))
        .execute(&db)
        .await
        .unwrap();
    }
    // Files: an attachment's file and thumbnail-less PDF stay; a file nothing refers to goes.
    let order = order_of_a(&shop).await;
    let uploaded = upload(&shop, &shop.tech_a, &order, "other", "act.pdf", PDF).await;
    assert_eq!(uploaded.status, StatusCode::CREATED);
    let orphan = object_store::path::Path::from(format!("orgs/x/orders/{order}/{}", Uuid::now_v7()));
    object_store::ObjectStoreExt::put(&*state.storage, &orphan, b"half an upload".to_vec().into()).await.unwrap();
    let files = |dir: &std::path::Path| crate::support::files::stored_files(dir).len();

    // Now: what expired goes, but the orphan file is too young to be taken for abandoned.
    let cleaned = cleanup::clean(state, Utc::now()).await.unwrap();
    let expected =
        cleanup::Cleaned { sessions: 2, password_links: 2, periodic_runs: 1, deliveries: 1, ..Default::default() };
    assert_eq!(cleaned, expected);
    assert_eq!(files(&storage), 2);
    // Two hours later it goes too.
    let later = cleanup::clean(state, now).await.unwrap();
    assert_eq!(later, cleanup::Cleaned { files: 1, ..Default::default() });
    assert_eq!(count(&db, "SELECT count(*) FROM sessions").await, live_sessions - 2);
    assert_eq!(count(&db, "SELECT count(*) FROM password_reset_tokens").await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM periodic_runs").await, 2);
    assert_eq!(count(&db, "SELECT count(*) FROM deliveries WHERE source IN ('new', 'owed')").await, 2);
    assert_eq!(files(&storage), 1);
    let download = crate::support::files::get(
        &shop,
        &shop.tech_a,
        &format!("/api/v1/orders/{order}/attachments/{}", uploaded_id(&uploaded)),
    )
    .await;
    assert_eq!(download.status, StatusCode::OK);
    // Nothing more the second time.
    assert_eq!(cleanup::clean(state, now).await.unwrap(), cleanup::Cleaned::default());
}

fn uploaded_id(raw: &crate::support::files::Raw) -> String {
    let body: Value = serde_json::from_slice(&raw.bytes).unwrap();
    body["id"].as_str().unwrap().to_owned()
}

/// Sets an order's times, as if it had lived them.
async fn set_times(db: &PgPool, order: &Value, sets: &str, times: &[DateTime<Utc>]) {
    let sql = format!("UPDATE orders SET {sets} WHERE id = $1::uuid");
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(order["id"].as_str().unwrap().to_owned());
    for time in times {
        query = query.bind(*time);
    }
    assert_eq!(query.execute(db).await.unwrap().rows_affected(), 1);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_daily_summary_goes_to_the_office_once_at_the_organizations_hour(db: PgPool) {
    let shop = Shop::open(db.clone(), false).await;
    let state = &shop.app.state;
    let rival = shop.app.with_org("Rival Repairs").await;
    shop.app.with_user(rival, Role::Admin, "admin@rival.test").await;
    let moscow: chrono_tz::Tz = "Europe/Moscow".parse().unwrap();
    let now = Utc::now();
    let local = now.with_timezone(&moscow);
    let hour = i32::try_from(chrono::Timelike::hour(&local)).unwrap();

    // The hour is an organization setting, 0 to 23 or null.
    let path = "/api/v1/org";
    let refused = shop.app.patch(path, Some(&shop.admin), json!({ "daily_summary_hour": 24 })).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
    assert_eq!(refused.body["error"]["details"]["fields"]["daily_summary_hour"][0]["code"], "out_of_range");
    let off = shop.app.patch(path, Some(&shop.admin), json!({ "daily_summary_hour": null })).await;
    assert_eq!(off.body["daily_summary_hour"], Value::Null, "{:?}", off.body);
    assert_eq!(
        summary::send_due(state, &mut Queues::connect(&state.settings).await.unwrap().deliver, now).await.unwrap(),
        0
    );
    let on = shop.app.patch(path, Some(&shop.admin), json!({ "daily_summary_hour": hour })).await;
    assert_eq!(on.body["daily_summary_hour"], hour, "{:?}", on.body);
    let kept = shop.app.patch(path, Some(&shop.admin), json!({ "offer_fanout": 2 })).await;
    assert_eq!(kept.body["daily_summary_hour"], hour, "{:?}", kept.body);
    // Another organization's hour is another one: it gets nothing now.
    sqlx::query("UPDATE organizations SET daily_summary_hour = $2 WHERE id = $1")
        .bind(rival.0)
        .bind((hour + 3) % 24)
        .execute(&db)
        .await
        .unwrap();

    // Yesterday (Moscow time): four orders created, one completed, one cancelled, two missed their
    // due time; today one visit is scheduled; two open orders are overdue, one of them unassigned.
    let today = local.date_naive();
    let (yesterday, _) = domain::schedule::local_day(moscow, today.pred_opt().unwrap());
    let (today_start, _) = domain::schedule::local_day(moscow, today);
    let done = shop.new_order("Done").await;
    let cancelled = shop.new_order("Cancelled").await;
    shop.act_ok(&shop.dispatcher, &cancelled, "cancel", json!({ "reason": "not needed" })).await;
    let waiting = shop.new_order("Waiting").await;
    let visit = shop.new_order("Visit").await;
    shop.act_ok(&shop.dispatcher, &visit, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    let created = yesterday + Duration::hours(1);
    let due = yesterday + Duration::hours(3);
    for order in [&done, &cancelled, &waiting, &visit] {
        set_times(&db, order, "created_at = $2, sla_due_at = $3", &[created, due]).await;
    }
    set_times(&db, &done, "status = 'completed', completed_at = $2", &[yesterday + Duration::hours(2)]).await;
    set_times(&db, &cancelled, "cancelled_at = $2", &[yesterday + Duration::hours(2)]).await;
    let visit_start = today_start + Duration::minutes(30);
    set_times(
        &db,
        &visit,
        "scheduled_start = $2, scheduled_end = $3",
        &[visit_start, visit_start + Duration::hours(1)],
    )
    .await;

    let mut deliver = Queues::connect(&state.settings).await.unwrap().deliver;
    assert_eq!(summary::send_due(state, &mut deliver, now).await.unwrap(), 1);
    assert_eq!(summary::send_due(state, &mut deliver, now + Duration::minutes(1)).await.unwrap(), 0);
    let sent: Vec<(Uuid, chrono::NaiveDate)> =
        sqlx::query_as("SELECT org_id, local_date FROM daily_summaries").fetch_all(&db).await.unwrap();
    assert_eq!(sent, vec![(shop_org(&db).await, today)]);
    // The office heard, each once, in their language; the technicians and the other organization did not.
    let readers: BTreeSet<Uuid> = sqlx::query_scalar("SELECT user_id FROM notifications WHERE kind = 'daily_summary'")
        .fetch_all(&db)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let office = BTreeSet::from([
        user_id(&db, "admin@acme.test").await,
        user_id(&db, "disp@acme.test").await,
        user_id(&db, "boss@acme.test").await,
    ]);
    assert_eq!(readers, office);
    assert_eq!(count(&db, "SELECT count(*) FROM notifications WHERE kind = 'daily_summary'").await, 3);
    let inbox = shop.app.get("/api/v1/notifications", Some(&shop.manager)).await;
    let item = &inbox.body["items"][0];
    assert_eq!(item["kind"], "daily_summary", "{:?}", inbox.body);
    assert_eq!(item["subject"], format!("Acme Repairs: сводка на {today}"));
    let body = item["body"].as_str().unwrap();
    for figure in [
        "создано заказов — 4, выполнено — 1, отменено — 1, с нарушением SLA — 2",
        "запланировано визитов: 1",
        "без мастера: 1",
        "с истёкшим сроком: 2",
    ] {
        assert!(body.contains(figure), "{figure}: {body}");
    }
}

async fn shop_org(db: &PgPool) -> Uuid {
    sqlx::query_scalar("SELECT org_id FROM users WHERE email = 'admin@acme.test'").fetch_one(db).await.unwrap()
}
