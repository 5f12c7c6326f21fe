//! Sign-in, token rotation, forged tokens, passwords and rate limits, against PostgreSQL and Redis.

use crate::support::smtp::ReceivedMail;
use crate::support::{PASSWORD, TestApp, reset_token};
use axum::http::StatusCode;
use chrono::Utc;
use domain::Role;
use domain::api::users::CreateUserRequest;
use fieldflow::actor::Actor;
use fieldflow::auth::tokens::{AUDIENCE, AccessClaims};
use fieldflow::users;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::ExposeSecret;
use serde_json::json;
use sqlx::PgPool;

const ISSUER: &str = "http://127.0.0.1:8080";

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn refresh_rotates_and_reuse_revokes_the_whole_session(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Dispatcher, "disp@acme.test").await;

    let first = app.login_as("disp@acme.test").await;
    assert_eq!(first.token_type, "Bearer");
    assert_eq!(first.expires_in, 900);
    let me = app.get("/api/v1/me", Some(&first.access_token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "disp@acme.test");
    assert_eq!(me.body["role"], "dispatcher");

    let refreshed = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": first.refresh_token })).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{:?}", refreshed.body);
    let second_refresh = refreshed.body["refresh_token"].as_str().unwrap().to_owned();
    let second_access = refreshed.body["access_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first.refresh_token);
    assert_eq!(app.get("/api/v1/me", Some(&second_access)).await.status, StatusCode::OK);

    // The spent token again: someone replayed it. The whole session ends.
    let reused = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": first.refresh_token })).await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.code(), "refresh_token_reused");

    let after = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": second_refresh })).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.code(), "session_revoked");
    for token in [&first.access_token, &second_access] {
        let me = app.get("/api/v1/me", Some(token)).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
        assert_eq!(me.code(), "session_revoked");
    }

    let unknown = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": "not-a-token" })).await;
    assert_eq!(unknown.code(), "refresh_token_invalid");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn concurrent_refreshes_with_one_token_cannot_both_win(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Dispatcher, "disp@acme.test").await;
    let pair = app.login_as("disp@acme.test").await;
    let body = json!({ "refresh_token": pair.refresh_token });
    let (a, b) = tokio::join!(
        app.post("/api/v1/auth/refresh", None, body.clone()),
        app.post("/api/v1/auth/refresh", None, body)
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNAUTHORIZED]);
}

fn sign(claims: &serde_json::Value, secret: &[u8], alg: Algorithm) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn forged_and_foreign_access_tokens_are_refused(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let pair = app.login_as("admin@acme.test").await;
    let secret = app.state.settings.jwt_secret.expose_secret().as_bytes().to_vec();

    // The genuine claims, so each forgery differs from a valid token in one way only.
    let payload = pair.access_token.split('.').nth(1).unwrap();
    let genuine: AccessClaims = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap(),
    )
    .unwrap();
    assert_eq!(genuine.iss, ISSUER);
    let claims = serde_json::to_value(&genuine).unwrap();
    let with = |key: &str, value: serde_json::Value| {
        let mut changed = claims.clone();
        changed[key] = value;
        changed
    };
    let now = Utc::now().timestamp();

    let unsigned = {
        let header =
            base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, br#"{"alg":"none","typ":"JWT"}"#);
        format!("{header}.{payload}.")
    };
    let cases = [
        ("alg none", unsigned, "invalid_token"),
        (
            "wrong signature",
            sign(&claims, b"another-secret-that-is-long-enough-to-use!", Algorithm::HS256),
            "invalid_token",
        ),
        ("other HMAC algorithm", sign(&claims, &secret, Algorithm::HS512), "invalid_token"),
        ("expired", sign(&with("exp", json!(now - 120)), &secret, Algorithm::HS256), "token_expired"),
        ("wrong audience", sign(&with("aud", json!("someone-else")), &secret, Algorithm::HS256), "invalid_token"),
        ("wrong issuer", sign(&with("iss", json!("https://evil.example")), &secret, Algorithm::HS256), "invalid_token"),
        ("refresh type claim", sign(&with("typ", json!("refresh")), &secret, Algorithm::HS256), "invalid_token"),
        ("refresh token as access token", pair.refresh_token.clone(), "invalid_token"),
        ("garbage", "a.b.c".to_owned(), "invalid_token"),
    ];
    for (case, token, code) in cases {
        let response = app.get("/api/v1/me", Some(&token)).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(response.code(), code, "{case}");
        assert_eq!(response.headers["www-authenticate"], "Bearer", "{case}");
    }
    // The control: the genuine claims re-signed with the real key are accepted.
    let resigned = sign(&claims, &secret, Algorithm::HS256);
    assert_eq!(app.get("/api/v1/me", Some(&resigned)).await.status, StatusCode::OK);

    let missing = app.get("/api/v1/me", None).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.code(), "unauthorized");
    let _ = AUDIENCE;
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn unknown_email_wrong_password_and_disabled_account_answer_alike(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let disabled = app.with_user(org, Role::Technician, "gone@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;
    let response = app.post(&format!("/api/v1/users/{disabled}/disable"), Some(&admin), json!({})).await;
    assert_eq!(response.status, StatusCode::OK);

    let attempts = [
        json!({ "email": "nobody@acme.test", "password": PASSWORD }),
        json!({ "email": "admin@acme.test", "password": "wrong password here" }),
        json!({ "email": "gone@acme.test", "password": PASSWORD }),
        json!({ "email": "not an email", "password": PASSWORD }),
    ];
    let mut answers = Vec::new();
    for attempt in attempts {
        let response = app.post("/api/v1/auth/login", None, attempt).await;
        answers.push((response.status, response.body));
    }
    assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);
    assert_eq!(answers[0].1["error"]["code"], "invalid_credentials");
    assert!(answers.iter().all(|answer| *answer == answers[0]), "{answers:?}");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn stored_hashes_are_argon2id_with_at_least_the_minimum_cost(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE email = 'admin@acme.test'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(!hash.contains(PASSWORD));
    let parts: Vec<&str> = hash.split('$').collect();
    assert_eq!(parts[1], "argon2id", "{hash}");
    let params: std::collections::HashMap<&str, u32> = parts[3]
        .split(',')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k, v.parse().unwrap())
        })
        .collect();
    assert!(params["m"] >= 19 * 1024, "{hash}");
    assert!(params["t"] >= 2, "{hash}");
    assert!(params["p"] >= 1, "{hash}");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn repeated_failed_logins_get_429_with_retry_after(db: PgPool) {
    let app = TestApp::with_settings(db, |s| s.rate_limits.login_failures_per_account = 3).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let wrong = json!({ "email": "admin@acme.test", "password": "wrong password here" });
    for _ in 0..3 {
        assert_eq!(app.post("/api/v1/auth/login", None, wrong.clone()).await.status, StatusCode::UNAUTHORIZED);
    }
    // Locked now, even with the right password, until the window passes.
    let right = json!({ "email": "admin@acme.test", "password": PASSWORD });
    let limited = app.post("/api/v1/auth/login", None, right).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.code(), "rate_limited");
    let retry_after: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn logins_per_client_ip_are_limited(db: PgPool) {
    let app = TestApp::with_settings(db, |s| s.rate_limits.login_per_ip_per_minute = 5).await;
    let login = |ip: &'static str| {
        let request = axum::http::Request::post("/api/v1/auth/login")
            .header("content-type", "application/json")
            .header("x-forwarded-for", ip)
            .body(axum::body::Body::from(r#"{"email":"x@acme.test","password":"whatever1"}"#))
            .unwrap();
        app.send(request)
    };
    let window = |response: &crate::support::TestResponse, name: &str| -> u32 {
        response.headers[name].to_str().unwrap().parse().unwrap()
    };
    // The headers describe the sign-in window, not the API's far larger one.
    for remaining in (0..5).rev() {
        let response = login("203.0.113.7").await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED);
        assert_eq!(window(&response, "ratelimit-limit"), 5);
        assert_eq!(window(&response, "ratelimit-remaining"), remaining);
    }
    let limited = login("203.0.113.7").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(window(&limited, "ratelimit-remaining"), 0);
    // Another client is not affected.
    assert_eq!(login("203.0.113.8").await.status, StatusCode::UNAUTHORIZED);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn logout_ends_the_session(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Manager, "boss@acme.test").await;
    let pair = app.login_as("boss@acme.test").await;
    let other_device = app.login_as("boss@acme.test").await;
    let out = app.post("/api/v1/auth/logout", Some(&pair.access_token), json!({})).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me", Some(&pair.access_token)).await.code(), "session_revoked");
    let refresh = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": pair.refresh_token })).await;
    assert_eq!(refresh.status, StatusCode::UNAUTHORIZED);
    // Only that session: the other device stays signed in.
    assert_eq!(app.get("/api/v1/me", Some(&other_device.access_token)).await.status, StatusCode::OK);
}

/// Checks `token`'s session on `app` until that process's cache remembers it (its database
/// listener listens from the first check on), so what follows is answered from the cache.
async fn remembered(app: &TestApp, token: &str) -> (domain::SessionId, domain::UserId) {
    let claims = app.state.tokens.verify_access(token).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while app.state.sessions.get(claims.sid, claims.sub).is_none() {
        assert!(std::time::Instant::now() < deadline, "the session was never remembered");
        assert_eq!(app.get("/api/v1/me", Some(token)).await.status, StatusCode::OK);
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    (claims.sid, claims.sub)
}

/// How long until `app` refuses `token` (`session_revoked`), at most two seconds.
async fn refused_within(app: &TestApp, token: &str) -> std::time::Duration {
    let started = std::time::Instant::now();
    loop {
        let me = app.get("/api/v1/me", Some(token)).await;
        if me.code() == "session_revoked" {
            return started.elapsed();
        }
        assert_eq!(me.status, StatusCode::OK, "{:?}", me.body);
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "still accepted after two seconds");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Sessions are checked from a cache in each process; ending one in any process, disabling the
/// user or changing their role reaches every other process through PostgreSQL at once, and the
/// process that made the change refuses the very next request.
#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_cached_session_ends_in_every_process_at_once(db: PgPool) {
    let here = TestApp::new(db.clone()).await;
    let elsewhere = TestApp::new(db).await;
    let org = here.with_org("Acme Repairs").await;
    here.with_user(org, Role::Admin, "admin@acme.test").await;
    here.with_user(org, Role::Manager, "boss@acme.test").await;
    here.with_user(org, Role::Dispatcher, "dana@acme.test").await;
    let admin = here.token_for("admin@acme.test").await;

    // A logout here: refused here at the next request, and elsewhere as soon as PostgreSQL says.
    let boss_here = here.token_for("boss@acme.test").await;
    remembered(&here, &boss_here).await;
    let (_, boss_id) = remembered(&elsewhere, &boss_here).await;
    let boss_elsewhere = here.token_for("boss@acme.test").await;
    remembered(&elsewhere, &boss_elsewhere).await;
    let out = here.post("/api/v1/auth/logout", Some(&boss_here), json!({})).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert_eq!(here.get("/api/v1/me", Some(&boss_here)).await.code(), "session_revoked");
    let _ = refused_within(&elsewhere, &boss_here).await;
    // The boss's other session was not ended.
    assert_eq!(elsewhere.get("/api/v1/me", Some(&boss_elsewhere)).await.status, StatusCode::OK);

    // Disabled here: every session of the user refused elsewhere.
    let disable = here.post(&format!("/api/v1/users/{}/disable", boss_id.0), Some(&admin), json!({})).await;
    assert_eq!(disable.status, StatusCode::OK, "{:?}", disable.body);
    let delay = refused_within(&elsewhere, &boss_elsewhere).await;
    assert!(delay < std::time::Duration::from_millis(500), "{delay:?}");

    // A role changed here takes effect elsewhere at once: no more admin pages for the demoted.
    let dana = here.token_for("dana@acme.test").await;
    let (_, dana_id) = remembered(&elsewhere, &dana).await;
    assert_eq!(elsewhere.get("/api/v1/users", Some(&dana)).await.status, StatusCode::OK);
    let demoted =
        here.patch(&format!("/api/v1/users/{}", dana_id.0), Some(&admin), json!({ "role": "technician" })).await;
    assert_eq!(demoted.status, StatusCode::OK, "{:?}", demoted.body);
    let started = std::time::Instant::now();
    while elsewhere.get("/api/v1/me", Some(&dana)).await.body["role"] != "technician" {
        assert!(started.elapsed() < std::time::Duration::from_millis(500), "the old role is still cached");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(elsewhere.get("/api/v1/users", Some(&dana)).await.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn forgot_and_reset_password_by_email(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Technician, "tech@acme.test").await;
    let before = app.login_as("tech@acme.test").await;

    let unknown = app.post("/api/v1/auth/password/forgot", None, json!({ "email": "nobody@acme.test" })).await;
    let known = app.post("/api/v1/auth/password/forgot", None, json!({ "email": "TECH@acme.test" })).await;
    assert_eq!((unknown.status, &unknown.body), (StatusCode::ACCEPTED, &serde_json::Value::Null));
    assert_eq!((known.status, &known.body), (StatusCode::ACCEPTED, &serde_json::Value::Null));

    let mails = app.smtp.wait_for(1).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(app.smtp.received().len(), 1, "only the existing account gets an email");
    assert_eq!(mails[0].to, ["tech@acme.test"]);
    let text = mails[0].text();
    assert!(text.contains("http://127.0.0.1:8080/reset-password?token="), "{text}");
    let token = reset_token(&text);

    let common =
        app.post("/api/v1/auth/password/reset", None, json!({ "token": token, "new_password": "password123" })).await;
    assert_eq!(common.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(common.body["error"]["details"]["fields"]["new_password"][0]["code"], "password_too_common");

    let reset = app
        .post("/api/v1/auth/password/reset", None, json!({ "token": token, "new_password": "a brand new passphrase" }))
        .await;
    assert_eq!(reset.status, StatusCode::NO_CONTENT, "{:?}", reset.body);
    // Every session ended; the old password no longer works and the new one does.
    assert_eq!(app.get("/api/v1/me", Some(&before.access_token)).await.code(), "session_revoked");
    let old = app.post("/api/v1/auth/login", None, json!({ "email": "tech@acme.test", "password": PASSWORD })).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app
        .post("/api/v1/auth/login", None, json!({ "email": "tech@acme.test", "password": "a brand new passphrase" }))
        .await;
    assert_eq!(new.status, StatusCode::OK);

    let again = app
        .post("/api/v1/auth/password/reset", None, json!({ "token": token, "new_password": "yet another passphrase" }))
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.code(), "reset_token_invalid");
}

/// A received email's `Content-Type`, text part and HTML part.
fn read_mail(mail: &ReceivedMail) -> (String, String, String) {
    let message = mail.parsed();
    let content_type = message.header_raw("Content-Type").expect("a Content-Type header").trim().to_owned();
    let html = message.body_html(0).expect("an HTML part").into_owned();
    (content_type, mail.text(), html)
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn reset_and_invitation_emails_have_text_and_html_in_the_readers_language(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    let hebrew: CreateUserRequest = serde_json::from_value(json!({
        "email": "dana@acme.test", "full_name": "Dana", "role": "dispatcher", "locale": "he", "password": PASSWORD,
    }))
    .unwrap();
    users::service::create(&app.state, &Actor::System { org_id: org }, &hebrew).await.unwrap();

    let forgot = app.post("/api/v1/auth/password/forgot", None, json!({ "email": "dana@acme.test" })).await;
    assert_eq!(forgot.status, StatusCode::ACCEPTED);
    let mails = app.smtp.wait_for(1).await;
    let (content_type, text, html) = read_mail(&mails[0]);
    assert!(content_type.starts_with("multipart/alternative"), "{content_type}");
    let link = format!("http://127.0.0.1:8080/reset-password?token={}", reset_token(&text));
    assert!(text.contains("איפוס") && text.contains(&link), "{text}");
    assert!(html.contains("lang=\"he\" dir=\"rtl\"") && html.contains("איפוס"), "{html}");
    assert!(html.contains(&format!("href=\"{link}\"")), "the HTML part links to the same page: {html}");

    // Invited without a password: the invitation is in the organization's language (Russian).
    let invited: CreateUserRequest = serde_json::from_value(json!({
        "email": "ivan@acme.test", "full_name": "Ivan", "role": "manager",
    }))
    .unwrap();
    users::service::create(&app.state, &Actor::System { org_id: org }, &invited).await.unwrap();
    let mails = app.smtp.wait_for(2).await;
    let invitation = mails.iter().find(|mail| mail.to == ["ivan@acme.test"]).unwrap();
    let (content_type, text, html) = read_mail(invitation);
    assert!(content_type.starts_with("multipart/alternative"), "{content_type}");
    assert!(text.contains("пароль") && text.contains("/reset-password?token="), "{text}");
    assert!(html.contains("lang=\"ru\" dir=\"ltr\"") && html.contains("пароль"), "{html}");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn changing_the_password_ends_other_sessions(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Dispatcher, "disp@acme.test").await;
    let laptop = app.login_as("disp@acme.test").await;
    let phone = app.login_as("disp@acme.test").await;

    let wrong = app
        .post(
            "/api/v1/me/password",
            Some(&laptop.access_token),
            json!({ "current_password": "not my password", "new_password": "a brand new passphrase" }),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong.code(), "current_password_wrong");
    let short = app
        .post(
            "/api/v1/me/password",
            Some(&laptop.access_token),
            json!({ "current_password": PASSWORD, "new_password": "short" }),
        )
        .await;
    assert_eq!(short.body["error"]["details"]["fields"]["new_password"][0]["code"], "too_short");

    let changed = app
        .post(
            "/api/v1/me/password",
            Some(&laptop.access_token),
            json!({ "current_password": PASSWORD, "new_password": "a brand new passphrase" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    let fresh = changed.body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", Some(fresh)).await.status, StatusCode::OK);
    for stale in [&laptop.access_token, &phone.access_token] {
        assert_eq!(app.get("/api/v1/me", Some(stale)).await.code(), "session_revoked");
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_user_edits_their_own_profile(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Technician, "tech@acme.test").await;
    let token = app.token_for("tech@acme.test").await;
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.body["locale"], "ru", "defaults to the organization's language");
    assert_eq!(me.body["time_zone"], "Europe/Moscow");

    let changed = app
        .patch("/api/v1/me", Some(&token), json!({ "full_name": "Ivan Petrov", "phone": "8 (916) 123-45-67", "locale": "he", "time_zone": "Asia/Jerusalem" }))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["phone"], "+79161234567");
    assert_eq!(changed.body["locale"], "he");
    let cleared = app.patch("/api/v1/me", Some(&token), json!({ "phone": null })).await;
    assert_eq!(cleared.body["phone"], serde_json::Value::Null);
    assert_eq!(cleared.body["full_name"], "Ivan Petrov");

    let bad = app
        .patch("/api/v1/me", Some(&token), json!({ "locale": "xx", "time_zone": "Mars/Base", "full_name": "" }))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields = bad.body["error"]["details"]["fields"].as_object().unwrap();
    assert_eq!(fields.keys().collect::<Vec<_>>(), ["full_name", "locale", "time_zone"]);
    let unchanged = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(unchanged.body, cleared.body, "a refused edit changes nothing");

    let role = app.patch("/api/v1/me", Some(&token), json!({ "role": "admin" })).await;
    assert_eq!(role.status, StatusCode::UNPROCESSABLE_ENTITY, "users cannot promote themselves");
}
