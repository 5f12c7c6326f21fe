//! Limits on the whole API: per signed-in user and per client IP, 429 with `Retry-After` in the
//! error shape, `RateLimit-*` headers, and a Redis outage that neither blocks nor slows requests.
//! Counted in the process and sent to Redis in batches: no Redis round trip per request, and the
//! processes of one deployment still share their windows.

use crate::support::redis_proxy::CountingRedisProxy;
use crate::support::{TestApp, TestResponse};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use domain::Role;
use fieldflow::rate_limit::FLUSH_EVERY;
use sqlx::PgPool;
use std::time::{Duration, Instant};

/// `GET path` from `ip` (the harness trusts `X-Forwarded-For`), with a token or without.
async fn get_from(app: &TestApp, ip: &str, path: &str, token: Option<&str>) -> TestResponse {
    let mut request = Request::get(path).header("x-forwarded-for", ip);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

fn header_number(response: &TestResponse, name: &str) -> u64 {
    let value = response.headers.get(name).unwrap_or_else(|| panic!("no {name} header: {:?}", response.headers));
    value.to_str().unwrap().parse().unwrap()
}

fn assert_limited(response: &TestResponse) {
    assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", response.body);
    assert_eq!(response.code(), "rate_limited");
    assert!(response.body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    let retry_after = header_number(response, "retry-after");
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(header_number(response, "ratelimit-remaining"), 0);
}

async fn org_with_two_admins(app: &TestApp) -> (String, String) {
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "ann@acme.test").await;
    app.with_user(org, Role::Admin, "bob@acme.test").await;
    (app.token_for("ann@acme.test").await, app.token_for("bob@acme.test").await)
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_user_over_the_limit_gets_429_and_others_do_not(db: PgPool) {
    let app = TestApp::with_settings(db, |s| s.api_rate_limits.per_user_per_minute = 5).await;
    let (ann, bob) = org_with_two_admins(&app).await;

    for expected_remaining in (0..5).rev() {
        let response = app.get("/api/v1/me", Some(&ann)).await;
        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
        assert_eq!(header_number(&response, "ratelimit-limit"), 5);
        assert_eq!(header_number(&response, "ratelimit-remaining"), expected_remaining);
        assert!((1..=60).contains(&header_number(&response, "ratelimit-reset")));
    }
    let refused = app.get("/api/v1/me", Some(&ann)).await;
    assert_limited(&refused);
    // Every route of the API counts, not only the one that was hammered.
    assert_limited(&app.get("/api/v1/org", Some(&ann)).await);

    let other = app.get("/api/v1/me", Some(&bob)).await;
    assert_eq!(other.status, StatusCode::OK, "{:?}", other.body);
    assert_eq!(other.body["email"], "bob@acme.test");

    let metrics = app.state.metrics.as_ref().unwrap().render();
    assert!(metrics.contains(r#"api_requests_limited_total{limit="api:user"}"#), "{metrics}");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_ip_limit_counts_every_user_and_anonymous_callers(db: PgPool) {
    let app = TestApp::with_settings(db, |s| s.api_rate_limits.per_ip_per_minute = 6).await;
    // The logins come from the harness's own address, not from the one under test.
    let (ann, bob) = org_with_two_admins(&app).await;
    let crowded = "203.0.113.7";

    for token in [&ann, &bob, &ann, &bob, &ann] {
        assert_eq!(get_from(&app, crowded, "/api/v1/me", Some(token)).await.status, StatusCode::OK);
    }
    // The sixth request, anonymous: the limit is checked before authentication.
    assert_eq!(get_from(&app, crowded, "/api/v1/me", None).await.status, StatusCode::UNAUTHORIZED);
    assert_limited(&get_from(&app, crowded, "/api/v1/me", Some(&bob)).await);
    assert_limited(&get_from(&app, crowded, "/api/v1/me", None).await);
    let login = Request::post("/api/v1/auth/login")
        .header("x-forwarded-for", crowded)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"email": "ann@acme.test", "password": "wrong"}"#))
        .unwrap();
    assert_limited(&app.send(login).await);
    // The public tracking page shares the per-IP window; health checks are never limited.
    assert_limited(&get_from(&app, crowded, "/t/no-such-token", None).await);
    assert_eq!(get_from(&app, crowded, "/healthz", None).await.status, StatusCode::OK);

    let elsewhere = "203.0.113.8";
    assert_eq!(get_from(&app, elsewhere, "/api/v1/me", Some(&ann)).await.status, StatusCode::OK);
    assert_eq!(get_from(&app, elsewhere, "/t/no-such-token", None).await.status, StatusCode::NOT_FOUND);

    let metrics = app.state.metrics.as_ref().unwrap().render();
    assert!(metrics.contains(r#"api_requests_limited_total{limit="api:ip"}"#), "{metrics}");
}

/// An invalid token does not make a principal: such requests count against their IP only.
#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn forged_tokens_are_limited_by_ip_only(db: PgPool) {
    let app = TestApp::with_settings(db, |s| {
        s.api_rate_limits.per_user_per_minute = 2;
        s.api_rate_limits.per_ip_per_minute = 4;
    })
    .await;
    for _ in 0..4 {
        let response = get_from(&app, "198.51.100.1", "/api/v1/me", Some("not.a.token")).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{:?}", response.body);
        assert_eq!(header_number(&response, "ratelimit-limit"), 4);
    }
    assert_limited(&get_from(&app, "198.51.100.1", "/api/v1/me", Some("not.a.token")).await);
}

async fn twenty_requests(app: &TestApp, token: &str) -> Duration {
    let started = Instant::now();
    for _ in 0..20 {
        let response = app.get("/api/v1/me", Some(token)).await;
        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
        assert!(!response.headers.contains_key("ratelimit-limit"), "no counts without Redis");
    }
    started.elapsed()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn without_redis_requests_pass_quickly(db: PgPool) {
    let app = TestApp::with_settings(db, |s| {
        s.redis_url = "redis://127.0.0.1:1".into();
        s.api_rate_limits.per_user_per_minute = 1;
        s.api_rate_limits.per_ip_per_minute = 1;
    })
    .await;
    let (ann, _) = org_with_two_admins(&app).await;
    let took = twenty_requests(&app, &ann).await;
    assert!(took < Duration::from_secs(2), "20 requests took {took:?}");
}

/// A Redis that accepts connections and never answers costs a call timeout, then the circuit
/// breaker skips it for a second: 20 requests do not wait 20 timeouts.
#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_silent_redis_is_skipped_after_one_timeout(db: PgPool) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let app = TestApp::with_settings(db, |s| s.redis_url = format!("redis://{address}").into()).await;
    let (ann, _) = org_with_two_admins(&app).await;
    let took = twenty_requests(&app, &ann).await;
    assert!(took < Duration::from_secs(2), "20 requests took {took:?}");
}

/// Two API processes of one deployment: each sees the other's hits once they are flushed, and
/// a user who spread requests over both is refused by both.
#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn processes_sharing_redis_share_their_windows(db: PgPool) {
    let first = TestApp::with_settings(db.clone(), |s| s.api_rate_limits.per_user_per_minute = 10).await;
    let prefix = first.state.settings.redis_key_prefix.clone();
    let second = TestApp::with_settings(db, |s| {
        s.api_rate_limits.per_user_per_minute = 10;
        s.redis_key_prefix = prefix;
    })
    .await;
    let (ann, _) = org_with_two_admins(&first).await;

    for _ in 0..5 {
        assert_eq!(first.get("/api/v1/me", Some(&ann)).await.status, StatusCode::OK);
    }
    tokio::time::sleep(FLUSH_EVERY * 3).await;
    let sixth = second.get("/api/v1/me", Some(&ann)).await;
    assert_eq!(sixth.status, StatusCode::OK, "{:?}", sixth.body);
    assert_eq!(header_number(&sixth, "ratelimit-remaining"), 4, "the second process counts the first's five hits");

    for _ in 0..4 {
        assert_eq!(first.get("/api/v1/me", Some(&ann)).await.status, StatusCode::OK);
    }
    tokio::time::sleep(FLUSH_EVERY * 3).await;
    assert_limited(&first.get("/api/v1/me", Some(&ann)).await);
    // The second process last heard of the window at its own hit: it may let one more through
    // before its flush brings it the first's hits.
    let _stale = second.get("/api/v1/me", Some(&ann)).await;
    tokio::time::sleep(FLUSH_EVERY * 3).await;
    assert_limited(&second.get("/api/v1/me", Some(&ann)).await);
}

/// `requests` GETs of `path`, and the Redis commands they cost beyond the flushes that ran meanwhile
/// (each flush is one command); the flushes are counted from the time taken.
async fn redis_commands_of(app: &TestApp, proxy: &CountingRedisProxy, path: &str, token: &str) -> (usize, usize) {
    let requests = 40;
    let before = proxy.commands();
    let started = Instant::now();
    for _ in 0..requests {
        let response = app.get(path, Some(token)).await;
        assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
    }
    let took = started.elapsed();
    let flushes = usize::try_from(took.as_millis() / FLUSH_EVERY.as_millis()).unwrap() + 2;
    assert!(flushes < requests / 2, "{requests} requests took {took:?}: too slow to tell flushes from requests");
    (proxy.commands() - before, flushes)
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_request_costs_no_redis_round_trip_to_count_and_one_to_read_the_cache(db: PgPool) {
    let proxy = CountingRedisProxy::start().await;
    let app = TestApp::with_settings(db, |s| s.redis_url = proxy.url.clone().into()).await;
    let (ann, _) = org_with_two_admins(&app).await;
    // Known windows, an open connection and a cached `GET /org`.
    for path in ["/api/v1/me", "/api/v1/org", "/api/v1/org"] {
        let response = app.get(path, Some(&ann)).await;
        assert!(response.headers.contains_key("ratelimit-remaining"), "counted through the proxy");
    }
    tokio::time::sleep(FLUSH_EVERY * 2).await;

    let (commands, flushes) = redis_commands_of(&app, &proxy, "/api/v1/me", &ann).await;
    assert!(commands <= flushes, "{commands} Redis commands for 40 uncached requests, {flushes} flushes at most");
    let (commands, flushes) = redis_commands_of(&app, &proxy, "/api/v1/org", &ann).await;
    assert!(
        (40..=40 + flushes).contains(&commands),
        "{commands} Redis commands for 40 cached requests: one cache read each, {flushes} flushes at most"
    );
}
