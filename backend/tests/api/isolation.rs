//! Who may see and change which people: organizations are walled off from each other, roles decide
//! the routes, and disabling or re-roling a user takes effect on the tokens they already hold.

use crate::support::{PASSWORD, TestApp, ids};
use axum::http::{Method, StatusCode};
use domain::Role;
use serde_json::{Value, json};
use sqlx::PgPool;

/// Reads each path with the token, expecting 200, and answers the bodies.
async fn read_all(app: &TestApp, token: &str, paths: &[String]) -> Vec<Value> {
    let mut seen = Vec::new();
    for path in paths {
        let response = app.get(path, Some(token)).await;
        assert_eq!(response.status, StatusCode::OK, "{path}: {:?}", response.body);
        seen.push(response.body);
    }
    seen
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn another_organizations_people_are_not_found_and_stay_untouched(db: PgPool) {
    let app = TestApp::new(db).await;
    let acme = app.with_org("Acme Repairs").await;
    let bolt = app.with_org("Bolt Services").await;
    let acme_admin = app.with_user(acme, Role::Admin, "admin@acme.test").await;
    let acme_tech = app.with_technician(acme, "tech@acme.test", &["hvac"], &["north"]).await;
    let bolt_admin = app.with_user(bolt, Role::Admin, "admin@bolt.test").await;
    let bolt_disp = app.with_user(bolt, Role::Dispatcher, "disp@bolt.test").await;
    let bolt_tech = app.with_technician(bolt, "tech@bolt.test", &["hvac"], &["north"]).await;
    let a = app.token_for("admin@acme.test").await;
    let b = app.token_for("admin@bolt.test").await;
    let bolt_disp_session = app.login_as("disp@bolt.test").await;
    let bolt_tech_session = app.login_as("tech@bolt.test").await;

    let bolt_paths = [
        format!("/api/v1/users/{bolt_admin}"),
        format!("/api/v1/users/{bolt_disp}"),
        format!("/api/v1/users/{bolt_tech}"),
        format!("/api/v1/technicians/{bolt_tech}"),
        "/api/v1/users".to_owned(),
        "/api/v1/technicians".to_owned(),
    ];
    let before = read_all(&app, &b, &bolt_paths).await;

    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/users/{bolt_disp}"), None),
        (Method::GET, format!("/api/v1/users/{bolt_tech}"), None),
        (Method::GET, format!("/api/v1/users/{bolt_admin}"), None),
        (
            Method::PATCH,
            format!("/api/v1/users/{bolt_disp}"),
            Some(json!({ "full_name": "Taken Over", "role": "admin" })),
        ),
        (Method::PATCH, format!("/api/v1/users/{bolt_admin}"), Some(json!({ "role": "technician" }))),
        (Method::PATCH, format!("/api/v1/users/{bolt_tech}"), Some(json!({ "phone": null, "locale": "en" }))),
        (Method::POST, format!("/api/v1/users/{bolt_disp}/disable"), Some(json!({}))),
        (Method::POST, format!("/api/v1/users/{bolt_tech}/disable"), Some(json!({}))),
        (Method::POST, format!("/api/v1/users/{bolt_admin}/disable"), Some(json!({}))),
        (Method::POST, format!("/api/v1/users/{bolt_disp}/enable"), Some(json!({}))),
        (Method::GET, format!("/api/v1/technicians/{bolt_tech}"), None),
        (Method::GET, format!("/api/v1/technicians/{bolt_disp}"), None),
        (
            Method::PATCH,
            format!("/api/v1/technicians/{bolt_tech}"),
            Some(
                json!({ "skills": ["welding"], "zones": ["south"], "max_jobs_per_day": 2, "calendar_color": "#000000" }),
            ),
        ),
    ];
    for (method, path, body) in cases {
        let response = app.request(method.clone(), &path, Some(&a), body).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}: {:?}", response.body);
        assert_eq!(response.code(), "not_found", "{method} {path}");
    }

    // Nothing of Bolt changed, and its people's sessions still work.
    assert_eq!(read_all(&app, &b, &bolt_paths).await, before, "a refused cross-organization request changes nothing");
    for token in [&bolt_disp_session.access_token, &bolt_tech_session.access_token] {
        assert_eq!(app.get("/api/v1/me", Some(token)).await.status, StatusCode::OK);
    }

    // Acme's lists hold exactly Acme's people, whatever the filter.
    let users = app.get("/api/v1/users", Some(&a)).await;
    assert_eq!(users.status, StatusCode::OK);
    let mut expected = vec![acme_admin.to_string(), acme_tech.to_string()];
    expected.sort();
    assert_eq!(ids(&users.body), expected);
    let techs = app.get("/api/v1/technicians?skill=hvac&zone=north", Some(&a)).await;
    assert_eq!(ids(&techs.body), [acme_tech.to_string()]);
    for path in ["/api/v1/users?q=admin%40bolt", "/api/v1/users?q=disp", "/api/v1/users?q=tech%40bolt"] {
        let found = app.get(path, Some(&a)).await;
        assert_eq!(found.status, StatusCode::OK, "{path}");
        assert_eq!(found.body["items"], json!([]), "{path}");
    }
    // A cursor taken from the other organization's ids does not reach into it either.
    let after = app.get(&format!("/api/v1/users?cursor={}", uuid::Uuid::nil()), Some(&a)).await;
    assert_eq!(ids(&after.body), expected);
}

/// How a role's request is answered: allowed with this status, or refused with 403 `forbidden`.
#[derive(Debug)]
struct Case {
    method: Method,
    path: String,
    body: Option<Value>,
    allowed: &'static [Role],
    ok: StatusCode,
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn every_role_gets_exactly_the_routes_it_may_use(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    app.with_user(org, Role::Dispatcher, "disp@acme.test").await;
    app.with_user(org, Role::Manager, "boss@acme.test").await;
    let own_tech = app.with_technician(org, "tech@acme.test", &["hvac"], &["north"]).await;
    let target = app.with_user(org, Role::Dispatcher, "target@acme.test").await;
    let target_tech = app.with_technician(org, "target-tech@acme.test", &["hvac"], &["north"]).await;
    let roles = [
        (Role::Dispatcher, "dispatcher", app.token_for("disp@acme.test").await),
        (Role::Manager, "manager", app.token_for("boss@acme.test").await),
        (Role::Technician, "technician", app.token_for("tech@acme.test").await),
        (Role::Admin, "admin", app.token_for("admin@acme.test").await),
    ];
    let admin = roles[3].2.clone();

    const ADMIN: &[Role] = &[Role::Admin];
    const READERS: &[Role] = &[Role::Admin, Role::Dispatcher];
    const EVERYONE: &[Role] = &Role::ALL;
    let cases = |name: &str| {
        let case = |method: Method, path: String, body: Option<Value>, allowed: &'static [Role], ok: StatusCode| Case {
            method,
            path,
            body,
            allowed,
            ok,
        };
        vec![
            case(Method::GET, "/api/v1/org".into(), None, EVERYONE, StatusCode::OK),
            case(
                Method::PATCH,
                "/api/v1/org".into(),
                Some(json!({ "name": format!("Acme by {name}") })),
                ADMIN,
                StatusCode::OK,
            ),
            case(Method::GET, "/api/v1/users".into(), None, READERS, StatusCode::OK),
            case(Method::GET, "/api/v1/users?role=technician&limit=1".into(), None, READERS, StatusCode::OK),
            case(
                Method::POST,
                "/api/v1/users".into(),
                Some(
                    json!({ "email": format!("new-{name}@acme.test"), "full_name": "New One", "role": "dispatcher", "password": PASSWORD }),
                ),
                ADMIN,
                StatusCode::CREATED,
            ),
            case(Method::GET, format!("/api/v1/users/{target}"), None, READERS, StatusCode::OK),
            case(Method::GET, format!("/api/v1/users/{own_tech}"), None, READERS, StatusCode::OK),
            case(
                Method::PATCH,
                format!("/api/v1/users/{target}"),
                Some(json!({ "full_name": format!("Renamed by {name}") })),
                ADMIN,
                StatusCode::OK,
            ),
            case(
                Method::PATCH,
                format!("/api/v1/users/{target}"),
                Some(json!({ "role": "manager" })),
                ADMIN,
                StatusCode::OK,
            ),
            case(Method::POST, format!("/api/v1/users/{target}/disable"), Some(json!({})), ADMIN, StatusCode::OK),
            case(Method::POST, format!("/api/v1/users/{target}/enable"), Some(json!({})), ADMIN, StatusCode::OK),
            case(Method::GET, "/api/v1/technicians".into(), None, READERS, StatusCode::OK),
            case(Method::GET, "/api/v1/technicians?skill=hvac".into(), None, READERS, StatusCode::OK),
            case(
                Method::POST,
                "/api/v1/technicians".into(),
                Some(
                    json!({ "email": format!("new-tech-{name}@acme.test"), "full_name": "New Tech", "password": PASSWORD }),
                ),
                ADMIN,
                StatusCode::CREATED,
            ),
            case(Method::GET, format!("/api/v1/technicians/{target_tech}"), None, READERS, StatusCode::OK),
            // A technician may not read even their own profile through the management routes.
            case(Method::GET, format!("/api/v1/technicians/{own_tech}"), None, READERS, StatusCode::OK),
            case(
                Method::PATCH,
                format!("/api/v1/technicians/{target_tech}"),
                Some(json!({ "max_jobs_per_day": 3 })),
                ADMIN,
                StatusCode::OK,
            ),
            case(
                Method::PATCH,
                format!("/api/v1/technicians/{own_tech}"),
                Some(json!({ "zones": ["everywhere"] })),
                ADMIN,
                StatusCode::OK,
            ),
        ]
    };

    let snapshot_paths = [
        "/api/v1/org".to_owned(),
        "/api/v1/users?limit=200".to_owned(),
        "/api/v1/technicians?limit=200".to_owned(),
        format!("/api/v1/technicians/{own_tech}"),
    ];
    let before = read_all(&app, &admin, &snapshot_paths).await;

    // The non-admin roles go first, so the admin's changes cannot hide a refused one that went through.
    for (role, name, token) in &roles {
        if *role == Role::Admin {
            assert_eq!(
                read_all(&app, &admin, &snapshot_paths).await,
                before,
                "requests refused with 403 changed nothing"
            );
        }
        for Case { method, path, body, allowed, ok } in cases(name) {
            let response = app.request(method.clone(), &path, Some(token), body).await;
            if allowed.contains(role) {
                assert_eq!(response.status, ok, "{name}: {method} {path}: {:?}", response.body);
            } else {
                assert_eq!(response.status, StatusCode::FORBIDDEN, "{name}: {method} {path}: {:?}", response.body);
                assert_eq!(response.code(), "forbidden", "{name}: {method} {path}");
            }
        }
    }

    // What the admin did is there.
    let org_now = app.get("/api/v1/org", Some(&admin)).await;
    assert_eq!(org_now.body["name"], "Acme by admin");
    let target_now = app.get(&format!("/api/v1/users/{target}"), Some(&admin)).await;
    assert_eq!(target_now.body["full_name"], "Renamed by admin");
    assert_eq!(target_now.body["role"], "manager");
    assert_eq!(target_now.body["status"], "active");
    let created = app.get("/api/v1/users?q=new-", Some(&admin)).await;
    let emails: Vec<&str> =
        created.body["items"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap()).collect();
    assert_eq!(emails.len(), 2, "{emails:?}");
    assert!(emails.contains(&"new-admin@acme.test") && emails.contains(&"new-tech-admin@acme.test"), "{emails:?}");
    let tech_now = app.get(&format!("/api/v1/technicians/{target_tech}"), Some(&admin)).await;
    assert_eq!(tech_now.body["max_jobs_per_day"], 3);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn disabling_ends_every_session_at_once_and_enabling_does_not_revive_them(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let disp = app.with_user(org, Role::Dispatcher, "disp@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;
    let laptop = app.login_as("disp@acme.test").await;
    let phone = app.login_as("disp@acme.test").await;
    assert_eq!(app.get("/api/v1/me", Some(&laptop.access_token)).await.status, StatusCode::OK);

    let disabled = app.post(&format!("/api/v1/users/{disp}/disable"), Some(&admin), json!({})).await;
    assert_eq!(disabled.status, StatusCode::OK, "{:?}", disabled.body);
    assert_eq!(disabled.body["status"], "disabled");
    assert_eq!(disabled.body["id"], disp.to_string());

    for pair in [&laptop, &phone] {
        let me = app.get("/api/v1/me", Some(&pair.access_token)).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED);
        assert_eq!(me.code(), "session_revoked");
        let users = app.get("/api/v1/users", Some(&pair.access_token)).await;
        assert_eq!(users.status, StatusCode::UNAUTHORIZED);
        let refreshed = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": pair.refresh_token })).await;
        assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED, "{:?}", refreshed.body);
        assert_eq!(refreshed.code(), "session_revoked");
    }
    let login = app.post("/api/v1/auth/login", None, json!({ "email": "disp@acme.test", "password": PASSWORD })).await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login.code(), "invalid_credentials");
    let listed = app.get("/api/v1/users?status=disabled", Some(&admin)).await;
    assert_eq!(ids(&listed.body), [disp.to_string()]);

    let enabled = app.post(&format!("/api/v1/users/{disp}/enable"), Some(&admin), json!({})).await;
    assert_eq!(enabled.status, StatusCode::OK, "{:?}", enabled.body);
    assert_eq!(enabled.body["status"], "active");

    let fresh = app.login_as("disp@acme.test").await;
    let me = app.get("/api/v1/me", Some(&fresh.access_token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["status"], "active");
    for pair in [&laptop, &phone] {
        let me = app.get("/api/v1/me", Some(&pair.access_token)).await;
        assert_eq!(me.status, StatusCode::UNAUTHORIZED, "old access tokens stay dead");
        assert_eq!(me.code(), "session_revoked");
        let refreshed = app.post("/api/v1/auth/refresh", None, json!({ "refresh_token": pair.refresh_token })).await;
        assert_eq!(refreshed.status, StatusCode::UNAUTHORIZED, "old refresh tokens stay dead: {:?}", refreshed.body);
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_role_change_applies_to_tokens_already_issued(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let disp = app.with_user(org, Role::Dispatcher, "disp@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;
    let token = app.token_for("disp@acme.test").await;
    assert_eq!(app.get("/api/v1/users", Some(&token)).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/technicians", Some(&token)).await.status, StatusCode::OK);

    let demoted = app.patch(&format!("/api/v1/users/{disp}"), Some(&admin), json!({ "role": "technician" })).await;
    assert_eq!(demoted.status, StatusCode::OK, "{:?}", demoted.body);
    assert_eq!(demoted.body["role"], "technician");

    let refused = app.get("/api/v1/users", Some(&token)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "the token issued before the change must not keep the old role");
    assert_eq!(refused.code(), "forbidden");
    assert_eq!(app.get("/api/v1/technicians", Some(&token)).await.status, StatusCode::FORBIDDEN);
    let me = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK, "a role change does not end the session");
    assert_eq!(me.body["role"], "technician");
    // Becoming a technician gives them a default dispatch profile.
    let profile = app.get(&format!("/api/v1/technicians/{disp}"), Some(&admin)).await;
    assert_eq!(profile.status, StatusCode::OK, "{:?}", profile.body);
    assert_eq!(profile.body["max_jobs_per_day"], 8);
    assert_eq!(profile.body["skills"], json!([]));

    // And the other way: promoted to admin, the same token may manage the organization.
    let promoted = app.patch(&format!("/api/v1/users/{disp}"), Some(&admin), json!({ "role": "admin" })).await;
    assert_eq!(promoted.body["role"], "admin");
    let patched = app.patch("/api/v1/org", Some(&token), json!({ "locale": "en" })).await;
    assert_eq!(patched.status, StatusCode::OK, "{:?}", patched.body);
    assert_eq!(patched.body["locale"], "en");
    // No longer a technician: gone from the technicians list.
    let technicians = app.get("/api/v1/technicians", Some(&admin)).await;
    assert_eq!(technicians.body["items"], json!([]));
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_last_active_admin_cannot_leave(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    let first = app.with_user(org, Role::Admin, "admin@acme.test").await;
    let token = app.token_for("admin@acme.test").await;
    let me_before = app.get("/api/v1/me", Some(&token)).await;

    let attempts = [
        (Method::POST, format!("/api/v1/users/{first}/disable"), json!({})),
        (Method::PATCH, format!("/api/v1/users/{first}"), json!({ "role": "dispatcher" })),
        (
            Method::PATCH,
            format!("/api/v1/users/{first}"),
            json!({ "role": "technician", "full_name": "Renamed Admin" }),
        ),
    ];
    for (method, path, body) in &attempts {
        let response = app.request(method.clone(), path, Some(&token), Some(body.clone())).await;
        assert_eq!(response.status, StatusCode::CONFLICT, "{method} {path} {body}: {:?}", response.body);
        assert_eq!(response.code(), "last_admin", "{method} {path} {body}");
    }
    let me_after = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me_after.status, StatusCode::OK, "the refused disable must not end the session");
    assert_eq!(me_after.body, me_before.body, "a refused change changes nothing");
    assert_eq!(app.get(&format!("/api/v1/technicians/{first}"), Some(&token)).await.status, StatusCode::NOT_FOUND);

    // A second admin who is disabled does not count.
    let second = app
        .post(
            "/api/v1/users",
            Some(&token),
            json!({ "email": "second@acme.test", "full_name": "Second Admin", "role": "admin", "password": PASSWORD }),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{:?}", second.body);
    let second_id = second.body["id"].as_str().unwrap().to_owned();
    let disabled = app.post(&format!("/api/v1/users/{second_id}/disable"), Some(&token), json!({})).await;
    assert_eq!(disabled.status, StatusCode::OK, "another admin remains active: {:?}", disabled.body);
    let still = app.patch(&format!("/api/v1/users/{first}"), Some(&token), json!({ "role": "dispatcher" })).await;
    assert_eq!(still.status, StatusCode::CONFLICT);
    assert_eq!(still.code(), "last_admin");

    // With a second active admin, the first may step down, and then the second is the last one.
    let enabled = app.post(&format!("/api/v1/users/{second_id}/enable"), Some(&token), json!({})).await;
    assert_eq!(enabled.status, StatusCode::OK);
    let demoted = app.patch(&format!("/api/v1/users/{first}"), Some(&token), json!({ "role": "dispatcher" })).await;
    assert_eq!(demoted.status, StatusCode::OK, "{:?}", demoted.body);
    assert_eq!(demoted.body["role"], "dispatcher");

    let second_token = app.token_for("second@acme.test").await;
    let last = app.post(&format!("/api/v1/users/{second_id}/disable"), Some(&second_token), json!({})).await;
    assert_eq!(last.status, StatusCode::CONFLICT);
    assert_eq!(last.code(), "last_admin");
    let promoted = app.patch(&format!("/api/v1/users/{first}"), Some(&second_token), json!({ "role": "admin" })).await;
    assert_eq!(promoted.status, StatusCode::OK);
    let off = app.post(&format!("/api/v1/users/{second_id}/disable"), Some(&second_token), json!({})).await;
    assert_eq!(
        off.status,
        StatusCode::OK,
        "with another active admin, an admin may disable themselves: {:?}",
        off.body
    );
    assert_eq!(off.body["status"], "disabled");
    assert_eq!(app.get("/api/v1/me", Some(&second_token)).await.code(), "session_revoked");
    let admins = app.get("/api/v1/users?role=admin&status=active", Some(&token)).await;
    assert_eq!(ids(&admins.body), [first.to_string()]);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_forbidden_role_gets_403_even_with_an_invalid_body(db: PgPool) {
    // The role is checked before the body, so validation messages teach an outsider nothing.
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let tech = app.with_technician(org, "tech@acme.test", &["hvac"], &["north"]).await;
    let token = app.token_for("tech@acme.test").await;
    let cases = [
        (Method::POST, "/api/v1/users".to_owned(), json!({ "email": "bad", "full_name": "", "role": "admin" })),
        (Method::POST, "/api/v1/technicians".to_owned(), json!({ "email": "bad", "full_name": "" })),
        (Method::PATCH, format!("/api/v1/technicians/{tech}"), json!({ "max_jobs_per_day": 0 })),
        (Method::PATCH, format!("/api/v1/users/{tech}"), json!({ "phone": "12" })),
        (Method::PATCH, "/api/v1/org".to_owned(), json!({ "currency": "XXX" })),
    ];
    for (method, path, body) in cases {
        let response = app.request(method.clone(), &path, Some(&token), Some(body)).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "{method} {path}: {:?}", response.body);
        assert_eq!(response.code(), "forbidden");
    }
}
