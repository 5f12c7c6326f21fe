//! The customer's tracking page: what it shows and hides, its languages, unknown links, escaping.

use crate::support::TestApp;
use axum::http::StatusCode;
use domain::Role;
use serde_json::{Value, json};
use sqlx::PgPool;

/// An organization (Russian, Moscow time) with an order assigned to "Ivan Petrov"; returns the app,
/// the admin's token and the order as the dispatcher saw it.
async fn order_with_technician(db: PgPool) -> (TestApp, String, Value) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;
    let technician = app
        .post(
            "/api/v1/technicians",
            Some(&admin),
            json!({ "email": "ivan@acme.test", "full_name": "Ivan Petrov", "phone": "+79160000001",
                    "skills": ["washers"], "zones": ["north"] }),
        )
        .await;
    assert_eq!(technician.status, StatusCode::CREATED, "{:?}", technician.body);
    let technician_id = technician.body["user"]["id"].as_str().unwrap().to_owned();
    let customer = app
        .post(
            "/api/v1/customers",
            Some(&admin),
            json!({ "kind": "person", "name": "Maria Ivanova", "phones": ["+7 916 555-01-01"],
                    "sites": [{ "address": "Moscow, Tverskaya 1, apt 5" }] }),
        )
        .await;
    assert_eq!(customer.status, StatusCode::CREATED, "{:?}", customer.body);
    let service_type = app
        .post(
            "/api/v1/service-types",
            Some(&admin),
            json!({ "code": "washer", "name": "Washing machine repair", "default_duration_minutes": 90,
                    "default_price_minor": 350000, "required_skills": ["washers"] }),
        )
        .await;
    assert_eq!(service_type.status, StatusCode::CREATED, "{:?}", service_type.body);
    let order = app
        .post(
            "/api/v1/orders",
            Some(&admin),
            json!({ "customer_id": customer.body["customer"]["id"], "site_id": customer.body["customer"]["sites"][0]["id"],
                    "service_type_id": service_type.body["id"], "title": "Washer leaks secretly",
                    "description": "Door code 4711", "scheduled_start": "2026-12-01T07:00:00Z",
                    "scheduled_end": "2026-12-01T09:00:00Z" }),
        )
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{:?}", order.body);
    let path = format!("/api/v1/orders/{}/actions/assign", order.body["id"].as_str().unwrap());
    // The technician has no working hours set: the visit is booked by the dispatcher's decision.
    let assigned = app.post(&path, Some(&admin), json!({ "technician_id": technician_id, "force": true })).await;
    assert_eq!(assigned.status, StatusCode::OK, "{:?}", assigned.body);
    (app, admin, assigned.body)
}

/// The path of the order's tracking page, from the `tracking_url` staff see.
fn tracking_path(app: &TestApp, order: &Value) -> String {
    let url = order["tracking_url"].as_str().unwrap();
    let path = url.strip_prefix(app.state.settings.public_base()).unwrap();
    assert!(path.starts_with("/t/") && path.len() > 40, "{url}");
    path.to_owned()
}

fn html(response: &crate::support::TestResponse) -> &str {
    response.body.as_str().unwrap()
}

fn assert_private_headers(response: &crate::support::TestResponse) {
    assert!(response.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_eq!(response.headers["cache-control"], "no-store");
    assert_eq!(response.headers["x-robots-tag"], "noindex");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_page_shows_number_status_window_and_first_name_only(db: PgPool) {
    let (app, _, order) = order_with_technician(db).await;
    let page = app.get(&tracking_path(&app, &order), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_private_headers(&page);
    let text = html(&page);
    assert!(text.contains("<html lang=\"ru\" dir=\"ltr\">"), "{text}");
    assert!(text.contains("Acme Repairs"), "{text}");
    assert!(text.contains(order["number"].as_str().unwrap()), "{text}");
    assert!(text.contains("Мастер назначен"), "the status in Russian: {text}");
    assert!(text.contains("Ivan"), "{text}");
    assert!(text.contains("01.12.2026 10:00 \u{2013} 12:00 (Europe/Moscow)"), "the window in Moscow time: {text}");
    for hidden in ["Petrov", "Tverskaya", "Maria", "916", "555", "3500", "Washer leaks", "Door code", "ivan@acme"] {
        assert!(!text.contains(hidden), "{hidden:?} must not be on the page: {text}");
    }
    assert!(!text.contains("http://") && !text.contains("https://"), "no external assets: {text}");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_page_speaks_the_organizations_language_right_to_left_for_hebrew(db: PgPool) {
    let (app, admin, order) = order_with_technician(db).await;
    let changed = app.patch("/api/v1/org", Some(&admin), json!({ "locale": "he" })).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let page = app.get(&tracking_path(&app, &order), None).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = html(&page);
    assert!(text.contains("<html lang=\"he\" dir=\"rtl\">"), "{text}");
    assert!(text.contains("שובץ טכנאי"), "the status in Hebrew: {text}");
    assert!(text.contains("מעקב הזמנה"), "{text}");

    let changed = app.patch("/api/v1/org", Some(&admin), json!({ "locale": "en" })).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let text = app.get(&tracking_path(&app, &order), None).await.body.as_str().unwrap().to_owned();
    assert!(text.contains("<html lang=\"en\" dir=\"ltr\">") && text.contains("Technician assigned"), "{text}");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn an_unknown_link_is_a_404_html_page(db: PgPool) {
    let (app, _, order) = order_with_technician(db).await;
    let known = tracking_path(&app, &order);
    let mut guessed = known.clone();
    let last = guessed.pop().unwrap();
    guessed.push(if last == 'A' { 'B' } else { 'A' });
    for path in [guessed.as_str(), "/t/nothing-here", "/t/%3Cscript%3E", "/t/a'b"] {
        let page = app.get(path, None).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert_private_headers(&page);
        let text = html(&page);
        assert!(text.starts_with("<!DOCTYPE html>") && text.contains("Link not found"), "{path}: {text}");
        assert!(!text.contains("<script>"), "{text}");
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn names_are_escaped(db: PgPool) {
    let (app, admin, order) = order_with_technician(db).await;
    let name = "<script>alert(\"x\")</script> & Co's";
    let changed = app.patch("/api/v1/org", Some(&admin), json!({ "name": name })).await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let text = app.get(&tracking_path(&app, &order), None).await.body.as_str().unwrap().to_owned();
    assert!(!text.contains("<script>"), "{text}");
    assert!(text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co&#39;s"), "{text}");
}
