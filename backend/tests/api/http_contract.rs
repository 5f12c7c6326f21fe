//! The error contract and the operations endpoints: every error in one JSON shape, request ids,
//! readiness that tells the truth about PostgreSQL and Redis, metrics, the OpenAPI document.

use crate::support::TestApp;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::Role;
use serde_json::json;
use sqlx::PgPool;

/// Every error body is `{"error": {"code": <snake_case>, "message": <text>}}`, maybe with details.
fn assert_error_shape(response: &crate::support::TestResponse, status: StatusCode, code: &str) {
    assert_error_shape_for("", response, status, code);
}

fn assert_error_shape_for(case: &str, response: &crate::support::TestResponse, status: StatusCode, code: &str) {
    assert_eq!(response.status, status, "{case}: {:?}", response.body);
    let error =
        response.body["error"].as_object().unwrap_or_else(|| panic!("not the error shape: {:?}", response.body));
    assert_eq!(error["code"], code, "{case}: {:?}", response.body);
    assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(error.keys().all(|k| ["code", "message", "details"].contains(&k.as_str())));
    assert!(response.headers.contains_key("x-request-id"));
    if status == StatusCode::UNAUTHORIZED {
        assert_eq!(response.headers.get(header::WWW_AUTHENTICATE).unwrap(), "Bearer", "{case}");
    }
}

fn raw(
    method: &str,
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
    token: Option<&str>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    builder.body(body.into()).unwrap()
}

fn basic_auth() -> Request<Body> {
    Request::get("/api/v1/me").header(header::AUTHORIZATION, "Basic YWRtaW46YWRtaW4=").body(Body::empty()).unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn every_error_comes_back_in_the_json_shape(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let token = app.token_for("admin@acme.test").await;
    let json = Some("application/json");

    let cases = [
        (
            "malformed JSON",
            raw("POST", "/api/v1/auth/login", json, "{\"email\": ", None),
            StatusCode::BAD_REQUEST,
            "malformed_json",
        ),
        (
            "wrong content type",
            raw("POST", "/api/v1/auth/login", Some("text/plain"), "email=a", None),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "no content type",
            raw("POST", "/api/v1/auth/login", None, "{}", None),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            "missing field",
            raw("POST", "/api/v1/auth/login", json, r#"{"email":"a@b.c"}"#, None),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "unknown field",
            raw("PATCH", "/api/v1/me", json, r#"{"nickname":"x"}"#, Some(&token)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "wrong type",
            raw("PATCH", "/api/v1/org", json, r#"{"name":42}"#, Some(&token)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "too large",
            raw("PATCH", "/api/v1/me", json, format!(r#"{{"full_name":"{}"}}"#, "x".repeat(300 * 1024)), Some(&token)),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            "unknown API route",
            raw("GET", "/api/v1/no-such-thing", None, Body::empty(), None),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        ("unknown route", raw("GET", "/nothing/here", None, Body::empty(), None), StatusCode::NOT_FOUND, "not_found"),
        (
            "wrong method",
            raw("DELETE", "/api/v1/me", None, Body::empty(), Some(&token)),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "bad query",
            raw("GET", "/api/v1/users?limit=many", None, Body::empty(), Some(&token)),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "unknown query key",
            raw("GET", "/api/v1/users?colour=red", None, Body::empty(), Some(&token)),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "bad path id",
            raw("GET", "/api/v1/users/not-a-uuid", None, Body::empty(), Some(&token)),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        ("no token", raw("GET", "/api/v1/users", None, Body::empty(), None), StatusCode::UNAUTHORIZED, "unauthorized"),
        ("not a bearer token", basic_auth(), StatusCode::UNAUTHORIZED, "unauthorized"),
    ];
    for (case, request, status, code) in cases {
        let response = app.send(request).await;
        assert_error_shape_for(case, &response, status, code);
    }

    // Field validation names every bad field with a code.
    let invalid = app
        .post(
            "/api/v1/users",
            Some(&token),
            json!({ "email": "nope", "full_name": " ", "role": "admin", "phone": "12" }),
        )
        .await;
    assert_error_shape(&invalid, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let fields = &invalid.body["error"]["details"]["fields"];
    assert_eq!(fields["email"][0]["code"], "invalid_email");
    assert_eq!(fields["full_name"][0]["code"], "too_short");
    assert_eq!(fields["phone"][0]["code"], "invalid_phone");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&db).await.unwrap();
    assert_eq!(users, 1, "a refused request writes nothing");
}

/// PostgreSQL's text cannot hold a NUL character: any text that carries one, in the address or in
/// a JSON body, is refused in the error shape before it reaches a service, and nothing is written.
#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn text_with_a_nul_character_is_refused_and_changes_nothing(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let token = app.token_for("admin@acme.test").await;
    let json = Some("application/json");

    let cases = [
        (
            "order search",
            raw("GET", "/api/v1/orders?q=%00", None, Body::empty(), Some(&token)),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "customer search",
            raw("GET", "/api/v1/customers?q=a%00b", None, Body::empty(), Some(&token)),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "path",
            raw("GET", "/api/v1/users/a%00", None, Body::empty(), Some(&token)),
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "holiday name",
            raw("POST", "/api/v1/holidays", json, r#"{"day":"2027-01-01","name":"New\u0000Year"}"#, Some(&token)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
        (
            "profile name",
            raw("PATCH", "/api/v1/me", json, r#"{"full_name":"Ann\u0000"}"#, Some(&token)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        ),
    ];
    for (case, request, status, code) in cases {
        assert_error_shape_for(case, &app.send(request).await, status, code);
    }
    let holidays: i64 = sqlx::query_scalar("SELECT count(*) FROM holidays").fetch_one(&db).await.unwrap();
    assert_eq!(holidays, 0);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.body["full_name"], "User admin@acme.test");

    // An escaped backslash before `u0000` is text, not a NUL: it is kept as written.
    let request = raw("PATCH", "/api/v1/me", json, r#"{"full_name":"Ann \\u0000"}"#, Some(&token));
    let kept = app.send(request).await;
    assert_eq!(kept.status, StatusCode::OK, "{:?}", kept.body);
    assert_eq!(kept.body["full_name"], "Ann \\u0000");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn request_ids_are_generated_or_propagated(db: PgPool) {
    let app = TestApp::new(db).await;
    let generated = app.get("/healthz", None).await;
    let id = generated.headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let request = Request::get("/healthz").header("x-request-id", "trace-me-42").body(Body::empty()).unwrap();
    assert_eq!(app.send(request).await.headers["x-request-id"], "trace-me-42");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn readiness_reports_each_dependency(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    assert_eq!(app.get("/healthz", None).await.body, json!({ "status": "ok" }));
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::OK, "{:?}", ready.body);
    assert_eq!(ready.body["checks"], json!({ "postgres": "ok", "redis": "ok" }));

    // Nothing listens on port 1.
    let no_redis = TestApp::with_settings(db, |s| s.redis_url = "redis://127.0.0.1:1".to_owned().into()).await;
    let response = no_redis.get("/readyz", None).await;
    assert_error_shape(&response, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    assert_eq!(response.body["error"]["details"], json!({ "postgres": "ok", "redis": "unreachable" }));
    assert_eq!(no_redis.get("/healthz", None).await.status, StatusCode::OK, "liveness does not depend on Redis");

    let dead_pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(1))
        .connect_lazy("postgres://postgres@127.0.0.1:1/none")
        .unwrap();
    let no_postgres = TestApp::new(dead_pool).await;
    let response = no_postgres.get("/readyz", None).await;
    assert_error_shape(&response, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    assert_eq!(response.body["error"]["details"]["postgres"], "unreachable");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn logins_still_work_while_redis_is_down(db: PgPool) {
    // Rate limiting fails open: an outage of Redis degrades protection, not service.
    let app = TestApp::with_settings(db, |s| s.redis_url = "redis://127.0.0.1:1".to_owned().into()).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let token = app.token_for("admin@acme.test").await;
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status, StatusCode::OK);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn metrics_count_requests_by_route_and_status(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let token = app.token_for("admin@acme.test").await;
    let someone = app.get("/api/v1/me", Some(&token)).await.body["id"].as_str().unwrap().to_owned();
    app.get(&format!("/api/v1/users/{someone}"), Some(&token)).await;
    let metrics = app.get("/metrics", None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.body.as_str().unwrap();
    assert!(text.contains(r#"http_requests_total{method="GET",route="/api/v1/users/{id}",status="200"}"#), "{text}");
    assert!(!text.contains(&someone), "ids never become labels");
    assert!(text.contains("http_request_duration_seconds_bucket{"), "{text}");
    assert!(text.contains(r#"db_pool_connections{state="idle"}"#), "{text}");
    assert!(text.contains("db_pool_max_connections"), "{text}");
}

/// The checked-in copy of the OpenAPI document, so that every change to the API shows in review.
const OPENAPI_SNAPSHOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");

/// The served document equals `docs/openapi.json`; `FIELDFLOW_UPDATE_OPENAPI=1` rewrites the file
/// from the code (then review the diff).
#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_openapi_document_is_the_reviewed_snapshot(db: PgPool) {
    let app = TestApp::new(db).await;
    let spec = app.get("/api/openapi.json", None).await;
    assert_eq!(spec.status, StatusCode::OK);
    assert_eq!(spec.body["openapi"], "3.1.0");
    let served = serde_json::to_string_pretty(&spec.body).unwrap() + "\n";
    if std::env::var_os("FIELDFLOW_UPDATE_OPENAPI").is_some() {
        std::fs::write(OPENAPI_SNAPSHOT, &served).unwrap();
    }
    let snapshot = std::fs::read_to_string(OPENAPI_SNAPSHOT).unwrap_or_default();
    assert!(
        served == snapshot,
        "the OpenAPI document differs from docs/openapi.json: run \
         `FIELDFLOW_UPDATE_OPENAPI=1 scripts/test -p fieldflow --test api -- openapi` and review the diff"
    );
    let docs = app.get("/api/docs/", None).await;
    assert_eq!(docs.status, StatusCode::OK);
    assert!(docs.body.as_str().unwrap().contains("swagger"), "interactive docs are served");
}

/// Every `$ref` of a JSON value, wherever it sits.
fn references(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(reference)) = map.get("$ref") {
                found.push(reference.clone());
            }
            map.values().for_each(|value| references(value, found));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|value| references(value, found)),
        _ => {}
    }
}

/// What a generated client relies on: every schema it is pointed to exists, path parameters are
/// exactly the path's placeholders, and each operation lists the errors its shape can give.
#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_openapi_document_holds_together(db: PgPool) {
    let app = TestApp::new(db).await;
    let spec = app.get("/api/openapi.json", None).await.body;
    let mut found = Vec::new();
    references(&spec, &mut found);
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let dangling: Vec<&String> = found
        .iter()
        .filter(|reference| {
            reference.strip_prefix("#/components/schemas/").is_none_or(|name| !schemas.contains_key(name))
        })
        .collect();
    assert!(dangling.is_empty(), "references to undefined schemas: {dangling:?}");

    for (path, item) in spec["paths"].as_object().unwrap() {
        let mut placeholders: Vec<&str> =
            path.split('{').skip(1).filter_map(|rest| rest.split_once('}')).map(|(name, _)| name).collect();
        placeholders.sort_unstable();
        for (method, operation) in item.as_object().unwrap() {
            let route = format!("{} {path}", method.to_uppercase());
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            let mut in_path: Vec<&str> = parameters
                .iter()
                .filter(|parameter| parameter["in"] == "path")
                .map(|parameter| parameter["name"].as_str().unwrap())
                .collect();
            in_path.sort_unstable();
            assert_eq!(in_path, placeholders, "{route}: path parameters");
            let responses = operation["responses"].as_object().unwrap();
            if operation["security"].as_array().is_some_and(|security| !security.is_empty()) {
                assert!(responses.contains_key("401"), "{route}: 401");
            }
            if operation.get("requestBody").is_some() {
                assert!(["400", "415", "422"].iter().all(|status| responses.contains_key(*status)), "{route}");
            }
            assert!(responses.contains_key("429"), "{route}: 429");
        }
    }
}
