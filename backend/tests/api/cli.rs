//! The `fieldflow` binary from an empty database: migrate, create a user, serve, sign in, stop on
//! SIGTERM. And the demo seed, twice.

use crate::support::{TestApp, database_url};
use fieldflow::seed;
use serde_json::json;
use sqlx::PgPool;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_fieldflow");

fn fieldflow(url: &str) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("FIELDFLOW_DATABASE_URL", url)
        .env("FIELDFLOW_REDIS_KEY_PREFIX", format!("fieldflow-test:{}:", uuid::Uuid::new_v4()))
        .env("FIELDFLOW_LOG_FILTER", "warn");
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[sqlx::test(migrations = false)]
async fn from_an_empty_database_to_a_signed_in_user(db: PgPool) {
    let url = database_url(&db);
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetch_one(&db).await.unwrap();
    assert_eq!(tables, 0, "the database starts empty");

    let migrate = fieldflow(&url).arg("migrate").output().unwrap();
    assert!(migrate.status.success(), "{}", String::from_utf8_lossy(&migrate.stderr));

    // The password from the environment…
    let create = fieldflow(&url)
        .args([
            "user",
            "create",
            "--org",
            "Kazan Climate",
            "--email",
            "Boss@Kazan.test",
            "--role",
            "admin",
            "--name",
            "Rustam",
        ])
        .args(["--time-zone", "Europe/Moscow", "--locale", "ru", "--currency", "RUB"])
        .env("FIELDFLOW_NEW_PASSWORD", "kazan climate control")
        .output()
        .unwrap();
    assert!(create.status.success(), "{}", String::from_utf8_lossy(&create.stderr));
    // …or from standard input, into the organization that now exists.
    let mut child = fieldflow(&url)
        .args(["user", "create", "--org", "kazan climate", "--email", "tech@kazan.test", "--role", "technician"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"another long secret\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let weak = fieldflow(&url)
        .args(["user", "create", "--org", "Kazan Climate", "--email", "weak@kazan.test", "--role", "manager"])
        .env("FIELDFLOW_NEW_PASSWORD", "password1")
        .output()
        .unwrap();
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("password"), "{}", String::from_utf8_lossy(&weak.stderr));
    let orgs: i64 = sqlx::query_scalar("SELECT count(*) FROM organizations").fetch_one(&db).await.unwrap();
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&db).await.unwrap();
    assert_eq!((orgs, users), (1, 2));
    // The new organization can take its first order: it starts with service types (once).
    let codes: Vec<String> =
        sqlx::query_scalar("SELECT code FROM service_types ORDER BY code").fetch_all(&db).await.unwrap();
    assert_eq!(codes, ["diagnostics", "installation", "repair"]);

    let port = free_port();
    // With the default log filter, as `scripts/up` runs it: nothing below INFO buries its banner.
    let server = fieldflow(&url)
        .arg("serve")
        .env("FIELDFLOW_LISTEN", format!("127.0.0.1:{port}"))
        .env_remove("FIELDFLOW_LOG_FILTER")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    fieldflow::install_crypto_provider();
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server did not come up");

    for (email, password, role) in [
        ("boss@kazan.test", "kazan climate control", "admin"),
        ("tech@kazan.test", "another long secret", "technician"),
    ] {
        let login = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "email": email, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let tokens: serde_json::Value = login.json().await.unwrap();
        let me: serde_json::Value = client
            .get(format!("{base}/api/v1/me"))
            .bearer_auth(tokens["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["role"], role);
        assert_eq!(me["time_zone"], "Europe/Moscow");
    }

    // SIGTERM: the server stops accepting, finishes, and exits cleanly.
    let stopped = Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    assert!(stopped.success());
    let output = tokio::task::spawn_blocking(move || server.wait_with_output()).await.unwrap().unwrap();
    assert!(output.status.success(), "exit status after SIGTERM: {}", output.status);
    let logs = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(logs.contains("serving"), "{logs}");
    assert!(!logs.contains("DEBUG") && !logs.contains("TRACE"), "{logs}");
}

#[test]
fn a_missing_or_invalid_setting_names_its_variable() {
    let output = Command::new(BIN).arg("migrate").env("FIELDFLOW_LISTEN", "nowhere").output().unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("FIELDFLOW_LISTEN"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = Command::new(BIN).arg("migrate").env("FIELDFLOW_DATABASE_URL", "mysql://x").output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("FIELDFLOW_DATABASE_URL"));
    for command in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["seed", "demo", "--help"],
        &["user", "create", "--help"],
    ] {
        let output = Command::new(BIN).args(command).output().unwrap();
        assert!(output.status.success(), "{command:?}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage"), "{command:?}");
    }
}

/// Everything the seed writes, in a comparable form (timestamps and hashes included).
async fn snapshot(db: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT row_to_json(t)::text FROM (
            SELECT 'org' AS kind, id, name || time_zone || locale || currency || updated_at::text AS data FROM organizations
            UNION ALL SELECT 'user', id, email || role || coalesce(password_hash, '') || updated_at::text FROM users
            UNION ALL SELECT 'profile', user_id, skills::text || zones::text || working_hours::text || updated_at::text FROM technician_profiles
            UNION ALL SELECT 'reset', user_id, created_at::text FROM password_reset_tokens
            UNION ALL SELECT 'service_type', id, row_to_json(s)::text FROM service_types s
            UNION ALL SELECT 'customer', id, row_to_json(c)::text FROM customers c
            UNION ALL SELECT 'site', id, row_to_json(s)::text FROM customer_sites s
            UNION ALL SELECT 'order', id, row_to_json(o)::text FROM orders o
            UNION ALL SELECT 'event', order_id, count(*)::text FROM order_events GROUP BY order_id
         ) t ORDER BY 1",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_demo_seed_is_idempotent(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let first = seed::load_demo(&app.state, seed::DEMO).await.unwrap();
    assert_eq!((first.created, first.skipped), (9, 0));
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&db).await.unwrap();
    assert_eq!((first.customers, first.orders), (40, usize::try_from(orders).unwrap()));
    assert!(first.orders > 300 + 6, "300 finished orders, then every technician's current work: {}", first.orders);
    let after_first = snapshot(&db).await;
    let second = seed::load_demo(&app.state, seed::DEMO).await.unwrap();
    assert_eq!((second.created, second.skipped), (0, 9));
    assert_eq!((first.service_types.created, second.service_types.unchanged), (5, 5));
    assert_eq!(snapshot(&db).await, after_first, "the second run changed something");

    let org: (String, String, String, String) =
        sqlx::query_as("SELECT name, time_zone, locale, currency FROM organizations").fetch_one(&db).await.unwrap();
    assert_eq!(org, ("Demo Service".into(), "Europe/Moscow".into(), "ru".into(), "RUB".into()));
    let mut emails: Vec<String> =
        sqlx::query_scalar("SELECT email FROM users ORDER BY email").fetch_all(&db).await.unwrap();
    emails.sort();
    let mut expected: Vec<String> =
        ["admin", "dispatcher", "manager", "tech1", "tech2", "tech3", "tech4", "tech5", "tech6"]
            .iter()
            .map(|name| format!("{name}@example.com"))
            .collect();
    expected.sort();
    assert_eq!(emails, expected);
    let empty_profiles: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM technician_profiles WHERE skills = '{}' OR zones = '{}' OR working_hours = '{}'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(empty_profiles, 0, "every technician has skills, zones and working hours");
    // Every demo account signs in with the documented password.
    for email in &expected {
        let login = app.post("/api/v1/auth/login", None, json!({ "email": email, "password": "fieldflow-demo" })).await;
        assert_eq!(login.status, 200, "{email}");
    }
    past_orders_follow_the_lifecycle(&db).await;
    every_technician_has_a_day_of_work(&app, &db, &expected).await;
}

/// The demo is shown with its technicians: each has jobs on their next working day (today when
/// they work today), and nothing open is overdue, so the first SLA scan has no backlog to raise.
async fn every_technician_has_a_day_of_work(app: &TestApp, db: &PgPool, emails: &[String]) {
    let (today, _) = domain::schedule::local_day(
        chrono_tz::Europe::Moscow,
        chrono::Utc::now().with_timezone(&chrono_tz::Europe::Moscow).date_naive(),
    );
    for email in emails.iter().filter(|email| email.starts_with("tech")) {
        let login = app.post("/api/v1/auth/login", None, json!({ "email": email, "password": "fieldflow-demo" })).await;
        let token = login.body["access_token"].as_str().unwrap().to_owned();
        let list = app.get("/api/v1/orders?sort=scheduled&limit=200", Some(&token)).await;
        assert_eq!(list.status, 200, "{:?}", list.body);
        let upcoming = list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|order| {
                order["scheduled_start"]
                    .as_str()
                    .is_some_and(|start| start.parse::<chrono::DateTime<chrono::Utc>>().unwrap() >= today)
            })
            .count();
        assert!(upcoming >= 2, "{email} has {upcoming} jobs from today on");
    }
    let overdue: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders WHERE status NOT IN ('completed', 'closed', 'cancelled') AND sla_due_at <= now()",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(overdue, 0, "no open demo order is past its due time");
    let raised = fieldflow::orders::sla::scan(&app.state, chrono::Utc::now()).await.unwrap();
    assert_eq!(raised.breached, 0);
    let waiting: i64 =
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE status = 'new'").fetch_one(db).await.unwrap();
    assert!(waiting > 0, "the dispatcher has new orders to assign");
}

/// The demo's orders: history finished, Moscow and Saint Petersburg both served, and each
/// order's status, technician and milestones agreeing with its own history.
async fn past_orders_follow_the_lifecycle(db: &PgPool) {
    let history: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT status::text FROM orders WHERE created_at < now() - interval '4 days' ORDER BY 1",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert_eq!(history, ["cancelled", "closed", "completed"], "history is finished work");
    let cities: i64 = sqlx::query_scalar(
        "SELECT count(DISTINCT split_part(address, ',', 1)) FROM customer_sites WHERE address LIKE 'Москва%' OR address LIKE 'Санкт-Петербург%'",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(cities, 2);
    // The API sorts by id (`sort=newest`): neighbours by id must agree with their `created_at`.
    let out_of_order: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT created_at, lag(created_at) OVER (ORDER BY id) AS before FROM orders) o
         WHERE o.created_at < o.before",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(out_of_order, 0, "ids and created_at disagree");
    let inconsistent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders o
         WHERE o.created_at < now() - interval '91 days' OR o.updated_at > now()
            OR o.status::text <> coalesce((SELECT e.payload ->> 'to' FROM order_events e WHERE e.order_id = o.id
                                           AND e.kind <> 'created' ORDER BY e.id DESC LIMIT 1), 'new')
            OR o.version <> (SELECT count(*) FROM order_events e WHERE e.order_id = o.id)
            OR (o.status IN ('closed') AND (o.closed_at IS NULL OR o.completed_at IS NULL))
            OR (o.status = 'cancelled' AND o.cancelled_at IS NULL)
            OR (o.status NOT IN ('new', 'cancelled') AND o.technician_id IS NULL)
            OR (o.status = 'new' AND o.technician_id IS NOT NULL)",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(inconsistent, 0, "every past order agrees with its history");
    let unfinished_work: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders o JOIN service_types s ON s.id = o.service_type_id
         WHERE (SELECT count(*) FROM order_checklist_items i WHERE i.order_id = o.id) <> jsonb_array_length(s.checklist)
            OR (o.completed_at IS NOT NULL AND (
                   EXISTS (SELECT 1 FROM order_checklist_items i WHERE i.order_id = o.id
                           AND (i.state <> 'done' OR i.updated_by IS DISTINCT FROM o.technician_id))
                   OR NOT EXISTS (SELECT 1 FROM order_reports r WHERE r.order_id = o.id
                                  AND r.submitted_by = o.technician_id AND r.submitted_at = o.completed_at
                                  AND r.parts_total_minor = (SELECT sum(p.line_total_minor) FROM order_report_parts p
                                                             WHERE p.order_id = o.id))))
            OR (o.completed_at IS NULL AND (
                   EXISTS (SELECT 1 FROM order_checklist_items i WHERE i.order_id = o.id AND i.state <> 'pending')
                   OR EXISTS (SELECT 1 FROM order_reports r WHERE r.order_id = o.id)))",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(unfinished_work, 0, "checklists instanced; finished orders have them done and a report");
    let reports: i64 = sqlx::query_scalar("SELECT count(*) FROM order_reports").fetch_one(db).await.unwrap();
    assert!(reports > 100, "most past orders are finished, so most have reports: {reports}");
}
