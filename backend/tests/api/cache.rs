//! The cache of hot reads: served from Redis until a write through the services invalidates it,
//! never across organizations, and PostgreSQL alone when Redis is unreachable. Rows changed with
//! SQL behind the services' back prove where an answer came from.

use crate::support::TestApp;
use crate::support::shop::Shop;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{Duration, Utc};
use domain::Role;
use serde_json::{Value, json};
use sqlx::PgPool;

fn names(page: &Value) -> Vec<&str> {
    page["items"].as_array().unwrap().iter().map(|item| item["user"]["full_name"].as_str().unwrap()).collect()
}

async fn ok(response: crate::support::TestResponse) -> Value {
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    response.body
}

async fn admin_of(app: &TestApp, org_name: &str, email: &str) -> (domain::OrgId, String) {
    let org = app.with_org(org_name).await;
    app.with_user(org, Role::Admin, email).await;
    (org, app.token_for(email).await)
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_technician_list_is_cached_until_a_write(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (org, admin) = admin_of(&app, "Acme Repairs", "admin@acme.test").await;
    let tech = app.with_technician(org, "tech@acme.test", &["washing_machines"], &["north"]).await;

    assert_eq!(names(&ok(app.get("/api/v1/technicians", Some(&admin)).await).await), ["Tech tech@acme.test"]);
    sqlx::query("UPDATE users SET full_name = 'Renamed Behind' WHERE id = $1").bind(tech.0).execute(&db).await.unwrap();
    let cached = ok(app.get("/api/v1/technicians", Some(&admin)).await).await;
    assert_eq!(names(&cached), ["Tech tech@acme.test"], "served from the cache");
    // Every parameter is part of the key: another page size is another entry.
    let other_page = ok(app.get("/api/v1/technicians?limit=10", Some(&admin)).await).await;
    assert_eq!(names(&other_page), ["Renamed Behind"]);

    let path = format!("/api/v1/technicians/{tech}");
    ok(app.patch(&path, Some(&admin), json!({ "zones": ["south"] })).await).await;
    let fresh = ok(app.get("/api/v1/technicians", Some(&admin)).await).await;
    assert_eq!(names(&fresh), ["Renamed Behind"], "the write invalidated the entry");
    assert_eq!(fresh["items"][0]["zones"], json!(["south"]));

    // Deactivating the account (a users route) changes the technician list too.
    ok(app.post(&format!("/api/v1/users/{tech}/disable"), Some(&admin), json!({})).await).await;
    let after = ok(app.get("/api/v1/technicians", Some(&admin)).await).await;
    assert_eq!(after["items"][0]["user"]["status"], "disabled");

    let metrics = app.state.metrics.as_ref().unwrap().render();
    assert!(metrics.contains(r#"cache_requests_total{cache="technicians",outcome="hit"}"#), "{metrics}");
    assert!(metrics.contains(r#"cache_requests_total{cache="technicians",outcome="miss"}"#), "{metrics}");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn service_types_are_cached_until_edited_or_imported(db: PgPool) {
    let shop = Shop::open(db.clone(), false).await;
    let (app, admin) = (&shop.app, &shop.admin);
    let name_of = |page: &Value| page["items"][0]["name"].as_str().unwrap().to_owned();

    assert_eq!(name_of(&ok(app.get("/api/v1/service-types", Some(admin)).await).await), "Washing machine repair");
    sqlx::query("UPDATE service_types SET name = 'Renamed Behind'").execute(&db).await.unwrap();
    assert_eq!(name_of(&ok(app.get("/api/v1/service-types", Some(admin)).await).await), "Washing machine repair");

    let path = format!("/api/v1/service-types/{}", shop.service_type_id);
    ok(app.patch(&path, Some(admin), json!({ "default_duration_minutes": 120 })).await).await;
    let edited = ok(app.get("/api/v1/service-types", Some(admin)).await).await;
    assert_eq!(name_of(&edited), "Renamed Behind");
    assert_eq!(edited["items"][0]["default_duration_minutes"], 120);

    sqlx::query("UPDATE service_types SET name = 'Renamed Again'").execute(&db).await.unwrap();
    assert_eq!(name_of(&ok(app.get("/api/v1/service-types", Some(admin)).await).await), "Renamed Behind");
    let document = "version: 1\nservice_types:\n  - code: boiler\n    name: Boiler service\n    \
                    default_duration_minutes: 60\n    default_price_minor: 0\n";
    let import = Request::post("/api/v1/service-types/import")
        .header(header::AUTHORIZATION, format!("Bearer {admin}"))
        .header(header::CONTENT_TYPE, "application/yaml")
        .body(Body::from(document))
        .unwrap();
    let summary = ok(app.send(import).await).await;
    assert_eq!(summary["created"], 1);
    let imported = ok(app.get("/api/v1/service-types", Some(admin)).await).await;
    assert_eq!(name_of(&imported), "Renamed Again");
    assert_eq!(imported["items"].as_array().unwrap().len(), 2);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn organization_settings_are_cached_until_patched(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (org, admin) = admin_of(&app, "Acme Repairs", "admin@acme.test").await;
    app.with_user(org, Role::Technician, "tech@acme.test").await;
    let tech = app.token_for("tech@acme.test").await;

    assert_eq!(ok(app.get("/api/v1/org", Some(&tech)).await).await["name"], "Acme Repairs");
    sqlx::query("UPDATE organizations SET name = 'Renamed Behind'").execute(&db).await.unwrap();
    assert_eq!(ok(app.get("/api/v1/org", Some(&admin)).await).await["name"], "Acme Repairs");

    ok(app.patch("/api/v1/org", Some(&admin), json!({ "offer_fanout": 4 })).await).await;
    let fresh = ok(app.get("/api/v1/org", Some(&tech)).await).await;
    assert_eq!((fresh["name"].as_str().unwrap(), fresh["offer_fanout"].as_i64().unwrap()), ("Renamed Behind", 4));
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn an_organization_never_reads_another_ones_entries(db: PgPool) {
    let app = TestApp::new(db).await;
    let (acme, acme_admin) = admin_of(&app, "Acme Repairs", "admin@acme.test").await;
    let (globex, globex_admin) = admin_of(&app, "Globex Service", "admin@globex.test").await;
    app.with_technician(acme, "a@acme.test", &["washing_machines"], &["north"]).await;
    app.with_technician(globex, "g@globex.test", &["boilers"], &["south"]).await;

    // The same query from both, Acme first, twice each: the second answers come from the cache.
    for _ in 0..2 {
        let acme_page = ok(app.get("/api/v1/technicians", Some(&acme_admin)).await).await;
        assert_eq!(names(&acme_page), ["Tech a@acme.test"]);
        let globex_page = ok(app.get("/api/v1/technicians", Some(&globex_admin)).await).await;
        assert_eq!(names(&globex_page), ["Tech g@globex.test"]);
        assert_eq!(ok(app.get("/api/v1/org", Some(&globex_admin)).await).await["name"], "Globex Service");
        assert_eq!(ok(app.get("/api/v1/org", Some(&acme_admin)).await).await["name"], "Acme Repairs");
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn without_redis_reads_come_from_postgres_and_writes_succeed(db: PgPool) {
    let app = TestApp::with_settings(db.clone(), |s| s.redis_url = "redis://127.0.0.1:1".into()).await;
    let (org, admin) = admin_of(&app, "Acme Repairs", "admin@acme.test").await;
    let tech = app.with_technician(org, "tech@acme.test", &["washing_machines"], &["north"]).await;

    assert_eq!(names(&ok(app.get("/api/v1/technicians", Some(&admin)).await).await), ["Tech tech@acme.test"]);
    sqlx::query("UPDATE users SET full_name = 'Renamed Behind' WHERE id = $1").bind(tech.0).execute(&db).await.unwrap();
    assert_eq!(names(&ok(app.get("/api/v1/technicians", Some(&admin)).await).await), ["Renamed Behind"]);

    let path = format!("/api/v1/technicians/{tech}");
    let updated = ok(app.patch(&path, Some(&admin), json!({ "zones": ["south"] })).await).await;
    assert_eq!(updated["zones"], json!(["south"]));
    let patched = ok(app.patch("/api/v1/org", Some(&admin), json!({ "name": "Acme Two" })).await).await;
    assert_eq!(patched["name"], "Acme Two");
    assert_eq!(ok(app.get("/api/v1/org", Some(&admin)).await).await["name"], "Acme Two");
    assert_eq!(ok(app.get("/api/v1/service-types", Some(&admin)).await).await["items"], json!([]));
    let counters = ok(app.get("/api/v1/dashboard/counters", Some(&admin)).await).await;
    assert_eq!(counters["unassigned"], 0);

    let metrics = app.state.metrics.as_ref().unwrap().render();
    assert!(metrics.contains(r#"cache_requests_total{cache="technicians",outcome="error"}"#), "{metrics}");
}

/// Counts per status as `[new, assigned, accepted, en_route, in_progress, on_hold, completed, closed, cancelled]`.
fn by_status(counters: &Value) -> Vec<u64> {
    counters["by_status"].as_array().unwrap().iter().map(|entry| entry["count"].as_u64().unwrap()).collect()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn dashboard_counters_count_the_organizations_orders(db: PgPool) {
    let shop = Shop::open(db.clone(), false).await;
    let moscow = chrono_tz::Europe::Moscow;
    let today = Utc::now().with_timezone(&moscow).date_naive();
    let noon = |day: chrono::NaiveDate| day.and_hms_opt(12, 0, 0).unwrap().and_local_timezone(moscow).unwrap().to_utc();
    let scheduled = |start: chrono::DateTime<Utc>| {
        json!({ "customer_id": shop.customer_id, "site_id": shop.site_id, "service_type_id": shop.service_type_id,
                "title": "Scheduled", "scheduled_start": start, "scheduled_end": start + Duration::hours(1) })
    };
    let create = async |body: Value| {
        let response = shop.app.post("/api/v1/orders", Some(&shop.dispatcher), body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        response.body
    };

    let overdue = shop.new_order("Past its SLA").await;
    create(scheduled(noon(today))).await;
    create(scheduled(noon(today + Duration::days(1)))).await;
    let assigned = shop.new_order("Taken").await;
    shop.act_ok(&shop.dispatcher, &assigned, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    let cancelled = create(scheduled(noon(today))).await;
    shop.act_ok(&shop.dispatcher, &cancelled, "cancel", json!({ "reason": "customer called" })).await;
    sqlx::query("UPDATE orders SET sla_due_at = now() - interval '1 hour' WHERE id = ANY($1)")
        .bind(vec![
            overdue["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap(),
            cancelled["id"].as_str().unwrap().parse().unwrap(),
        ])
        .execute(&db)
        .await
        .unwrap();
    // Another organization's orders count for it alone.
    let other = shop.app.with_org("Globex Service").await;
    shop.app.with_user(other, Role::Admin, "admin@globex.test").await;
    let globex = shop.app.token_for("admin@globex.test").await;

    let counters = ok(shop.app.get("/api/v1/dashboard/counters", Some(&shop.manager)).await).await;
    assert_eq!(by_status(&counters), [3, 1, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(counters["by_status"][0]["status"], "new");
    assert_eq!(counters["scheduled_today"], 1, "today's live order, not tomorrow's nor the cancelled one");
    assert_eq!(counters["unassigned"], 3);
    assert_eq!(counters["overdue"], 1, "the cancelled order is not overdue");

    // Cached for a few seconds: a second read is the same count, taken at the same time.
    let again = ok(shop.app.get("/api/v1/dashboard/counters", Some(&shop.dispatcher)).await).await;
    assert_eq!(again, counters);
    assert_eq!(ok(shop.app.get("/api/v1/dashboard/counters", Some(&shop.admin)).await).await, counters);

    let theirs = ok(shop.app.get("/api/v1/dashboard/counters", Some(&globex)).await).await;
    assert_eq!(by_status(&theirs), [0; 9]);
    let refused = shop.app.get("/api/v1/dashboard/counters", Some(&shop.tech_a)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "forbidden");
    assert_eq!(shop.app.get("/api/v1/dashboard/counters", None).await.status, StatusCode::UNAUTHORIZED);
}
