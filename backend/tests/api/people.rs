//! Managing people: users and invitations, validation, paging, technicians and their profiles, and
//! the organization's settings.

use crate::support::{PASSWORD, TestApp, TestResponse, ids, reset_token};
use axum::http::StatusCode;
use domain::Role;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;

/// The field paths of a 422 `validation_failed` answer.
fn failed_fields(response: &TestResponse) -> Vec<String> {
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", response.body);
    assert_eq!(response.code(), "validation_failed");
    response.body["error"]["details"]["fields"].as_object().expect("field details").keys().cloned().collect()
}

fn field_code<'a>(response: &'a TestResponse, path: &str) -> &'a str {
    response.body["error"]["details"]["fields"][path][0]["code"].as_str().unwrap_or("<none>")
}

/// Follows `next_cursor` from the first page to the last; answers the ids and the page sizes.
async fn walk(app: &TestApp, token: &str, base: &str, limit: u32) -> (Vec<String>, Vec<usize>) {
    let separator = if base.contains('?') { '&' } else { '?' };
    let mut cursor: Option<String> = None;
    let mut all = Vec::new();
    let mut sizes = Vec::new();
    for _ in 0..100 {
        let path = match &cursor {
            Some(cursor) => format!("{base}{separator}limit={limit}&cursor={cursor}"),
            None => format!("{base}{separator}limit={limit}"),
        };
        let page = app.get(&path, Some(token)).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {:?}", page.body);
        let items = ids(&page.body);
        assert!(items.len() <= limit as usize, "{path}: {} items", items.len());
        sizes.push(items.len());
        all.extend(items);
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => {
                assert_eq!(page.body["next_cursor"], Value::Null, "{path}: the last page has no cursor");
                return (all, sizes);
            }
        }
    }
    panic!("paging of {base} never ended");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn an_admin_creates_users_and_an_invitation_lets_them_in(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;

    // With a password and explicit settings: no email, and they can sign in at once.
    let direct = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({ "email": "boss@acme.test", "full_name": "Big Boss", "role": "manager", "locale": "he",
                    "time_zone": "Asia/Jerusalem", "password": "a manager passphrase" }),
        )
        .await;
    assert_eq!(direct.status, StatusCode::CREATED, "{:?}", direct.body);
    assert_eq!(direct.body["locale"], "he");
    assert_eq!(direct.body["time_zone"], "Asia/Jerusalem");
    assert_eq!(direct.body["role"], "manager");
    let signed_in = app
        .post("/api/v1/auth/login", None, json!({ "email": "boss@acme.test", "password": "a manager passphrase" }))
        .await;
    assert_eq!(signed_in.status, StatusCode::OK);

    // Without a password: organization defaults, normalized fields, and an invitation.
    let invited = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({ "email": "  New.Person@ACME.test ", "full_name": "  Nina Petrova ", "role": "dispatcher", "phone": "8 (916) 123-45-67" }),
        )
        .await;
    assert_eq!(invited.status, StatusCode::CREATED, "{:?}", invited.body);
    let body = &invited.body;
    let id = body["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert_eq!(body["org_id"], org.to_string());
    assert_eq!(body["email"], "new.person@acme.test");
    assert_eq!(body["full_name"], "Nina Petrova");
    assert_eq!(body["phone"], "+79161234567");
    assert_eq!(body["role"], "dispatcher");
    assert_eq!(body["status"], "active");
    assert_eq!(body["locale"], "ru", "defaults to the organization's language");
    assert_eq!(body["time_zone"], "Europe/Moscow", "defaults to the organization's time zone");
    assert_eq!(body["telegram_linked"], false);
    assert!(body["created_at"].is_string() && body["updated_at"].is_string(), "{body}");
    let read = app.get(&format!("/api/v1/users/{id}"), Some(&admin)).await;
    assert_eq!(&read.body, body, "GET answers what POST answered");

    let mails = app.smtp.wait_for(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.smtp.received().len(), 1, "only the user without a password is invited: {mails:?}");
    assert_eq!(mails[0].to, ["new.person@acme.test"]);
    let text = mails[0].text();
    assert!(text.contains("/reset-password?token="), "{text}");
    let token = reset_token(&text);
    assert!(token.len() >= 20, "{token}");

    // No password yet: nothing signs them in.
    for password in ["", PASSWORD] {
        let attempt = app
            .post("/api/v1/auth/login", None, json!({ "email": "new.person@acme.test", "password": password }))
            .await;
        assert_eq!(attempt.status, StatusCode::UNAUTHORIZED);
        assert_eq!(attempt.code(), "invalid_credentials");
    }
    let set = app
        .post("/api/v1/auth/password/reset", None, json!({ "token": token, "new_password": "my own fine passphrase" }))
        .await;
    assert_eq!(set.status, StatusCode::NO_CONTENT, "{:?}", set.body);
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({ "email": "New.Person@acme.test", "password": "my own fine passphrase" }),
        )
        .await;
    assert_eq!(login.status, StatusCode::OK, "{:?}", login.body);
    let me = app.get("/api/v1/me", Some(login.body["access_token"].as_str().unwrap())).await;
    assert_eq!(me.body["id"], id);
    assert_eq!(me.body["role"], "dispatcher");
    let again = app
        .post("/api/v1/auth/password/reset", None, json!({ "token": token, "new_password": "another fine passphrase" }))
        .await;
    assert_eq!(again.code(), "reset_token_invalid", "an invitation link works once");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn bad_and_duplicate_users_are_refused_and_nothing_is_created(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    let other = app.with_org("Bolt Services").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    app.with_user(org, Role::Dispatcher, "disp@acme.test").await;
    app.with_user(other, Role::Dispatcher, "elsewhere@bolt.test").await;
    let admin = app.token_for("admin@acme.test").await;
    let before = app.get("/api/v1/users", Some(&admin)).await;
    assert_eq!(before.body["items"].as_array().unwrap().len(), 2);

    let bad = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({ "email": "not-an-email", "full_name": "   ", "role": "dispatcher", "phone": "12",
                    "locale": "xx", "time_zone": "Mars/Base", "password": "short" }),
        )
        .await;
    assert_eq!(failed_fields(&bad), ["email", "full_name", "locale", "password", "phone", "time_zone"]);
    assert_eq!(field_code(&bad, "email"), "invalid_email");
    assert_eq!(field_code(&bad, "full_name"), "too_short");
    assert_eq!(field_code(&bad, "locale"), "invalid_locale");
    assert_eq!(field_code(&bad, "password"), "too_short");
    assert_eq!(field_code(&bad, "phone"), "invalid_phone");
    assert_eq!(field_code(&bad, "time_zone"), "invalid_time_zone");

    // Only the bad ones are named.
    let one = app
        .post(
            "/api/v1/users",
            Some(&admin),
            json!({ "email": "fine@acme.test", "full_name": "Fine Name", "role": "manager", "password": "password" }),
        )
        .await;
    assert_eq!(failed_fields(&one), ["password"]);
    assert_eq!(field_code(&one, "password"), "password_too_common");

    // Not a role, or an unknown field: the body does not deserialize; 422 without field details.
    for body in [
        json!({ "email": "x@acme.test", "full_name": "X", "role": "superuser" }),
        json!({ "email": "x@acme.test", "full_name": "X", "role": "manager", "salary": 1 }),
    ] {
        let response = app.post("/api/v1/users", Some(&admin), body.clone()).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(response.code(), "validation_failed", "{body}");
    }

    for email in ["disp@acme.test", "DISP@Acme.Test", " disp@acme.test ", "elsewhere@bolt.test"] {
        let taken = app
            .post(
                "/api/v1/users",
                Some(&admin),
                json!({ "email": email, "full_name": "Copy Cat", "role": "technician" }),
            )
            .await;
        assert_eq!(taken.status, StatusCode::CONFLICT, "{email}: {:?}", taken.body);
        assert_eq!(taken.code(), "email_taken", "{email}");
        let as_tech =
            app.post("/api/v1/technicians", Some(&admin), json!({ "email": email, "full_name": "Copy Cat" })).await;
        assert_eq!(as_tech.status, StatusCode::CONFLICT, "{email}: {:?}", as_tech.body);
        assert_eq!(as_tech.code(), "email_taken", "{email}");
    }

    let after = app.get("/api/v1/users", Some(&admin)).await;
    assert_eq!(after.body, before.body, "nothing was created");
    assert_eq!(app.get("/api/v1/technicians", Some(&admin)).await.body["items"], json!([]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(app.smtp.received().is_empty(), "no invitation for a refused user: {:?}", app.smtp.received());
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn lists_page_through_everyone_exactly_once_in_creation_order(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    let admin_id = app.with_user(org, Role::Admin, "admin@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;
    let mut created = Vec::new();
    for n in 0..7 {
        let response = app
            .post(
                "/api/v1/technicians",
                Some(&admin),
                json!({ "email": format!("tech{n}@acme.test"), "full_name": format!("Tech {n}") }),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        created.push(response.body["user"]["id"].as_str().unwrap().to_owned());
    }

    let (seen, sizes) = walk(&app, &admin, "/api/v1/technicians", 3).await;
    assert_eq!(seen, created, "every technician once, in creation order");
    assert_eq!(sizes, [3, 3, 1]);
    // A page that ends exactly at the last row has no cursor.
    let (seen, sizes) = walk(&app, &admin, "/api/v1/technicians", 7).await;
    assert_eq!((seen, sizes), (created.clone(), vec![7]));
    let (seen, sizes) = walk(&app, &admin, "/api/v1/technicians?status=active", 6).await;
    assert_eq!((seen, sizes), (created.clone(), vec![6, 1]));

    // Out-of-range limits are clamped, not refused.
    let zero = app.get("/api/v1/technicians?limit=0", Some(&admin)).await;
    assert_eq!(zero.status, StatusCode::OK, "{:?}", zero.body);
    assert_eq!(ids(&zero.body), created[..1]);
    assert_eq!(zero.body["next_cursor"], created[0]);
    let huge = app.get("/api/v1/technicians?limit=100000", Some(&admin)).await;
    assert_eq!(huge.status, StatusCode::OK, "{:?}", huge.body);
    assert_eq!(ids(&huge.body), created);
    assert_eq!(huge.body["next_cursor"], Value::Null);
    let default = app.get("/api/v1/technicians", Some(&admin)).await;
    assert_eq!(ids(&default.body), created);
    // A limit that is not a number is a bad query.
    let junk = app.get("/api/v1/technicians?limit=lots", Some(&admin)).await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST);
    assert_eq!(junk.code(), "bad_request");

    // Users: the admin first, then the technicians.
    let mut everyone = vec![admin_id.to_string()];
    everyone.extend(created.iter().cloned());
    let (seen, sizes) = walk(&app, &admin, "/api/v1/users", 3).await;
    assert_eq!(seen, everyone);
    assert_eq!(sizes, [3, 3, 2]);
    let (seen, _) = walk(&app, &admin, "/api/v1/users?role=technician", 2).await;
    assert_eq!(seen, created);
    let zero = app.get("/api/v1/users?limit=0", Some(&admin)).await;
    assert_eq!((zero.status, ids(&zero.body)), (StatusCode::OK, vec![everyone[0].clone()]));
    let huge = app.get("/api/v1/users?limit=100000", Some(&admin)).await;
    assert_eq!((huge.status, ids(&huge.body)), (StatusCode::OK, everyone.clone()));
    // The name/email prefix search, case-insensitive, with LIKE wildcards taken literally.
    let prefixed = app.get("/api/v1/users?q=TECH", Some(&admin)).await;
    assert_eq!(ids(&prefixed.body), created);
    let by_email = app.get("/api/v1/users?q=tech3%40", Some(&admin)).await;
    assert_eq!(ids(&by_email.body), [created[3].clone()]);
    let wildcard = app.get("/api/v1/users?q=%25", Some(&admin)).await;
    assert_eq!(wildcard.body["items"], json!([]));
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn technicians_are_created_normalized_and_found_by_skill_and_zone(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;

    let created = app
        .post(
            "/api/v1/technicians",
            Some(&admin),
            json!({ "email": "Ivan@Acme.test", "full_name": "Ivan Ivanov", "password": PASSWORD,
                    "skills": ["HVAC", "hvac", " Plumbing ", "plumbing"], "zones": ["North", "north", "SOUTH"],
                    "hourly_rate_minor": 150_000, "max_jobs_per_day": 5, "calendar_color": "#FF8800" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let ivan = created.body["user"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["user"]["email"], "ivan@acme.test");
    assert_eq!(created.body["user"]["role"], "technician");
    assert_eq!(created.body["user"]["locale"], "ru");
    assert_eq!(created.body["user"]["time_zone"], "Europe/Moscow");
    assert_eq!(created.body["skills"], json!(["hvac", "plumbing"]));
    assert_eq!(created.body["zones"], json!(["north", "south"]));
    assert_eq!(created.body["hourly_rate"], json!({ "amount_minor": 150_000, "currency": "RUB" }));
    assert_eq!(created.body["max_jobs_per_day"], 5);
    assert_eq!(created.body["calendar_color"], "#ff8800");
    assert_eq!(created.body["working_hours"], json!({}));
    let read = app.get(&format!("/api/v1/technicians/{ivan}"), Some(&admin)).await;
    assert_eq!(read.body, created.body);
    let as_user = app.get(&format!("/api/v1/users/{ivan}"), Some(&admin)).await;
    assert_eq!(as_user.body, created.body["user"]);

    // The defaults.
    let plain =
        app.post("/api/v1/technicians", Some(&admin), json!({ "email": "petr@acme.test", "full_name": "Petr" })).await;
    assert_eq!(plain.status, StatusCode::CREATED, "{:?}", plain.body);
    assert_eq!(plain.body["skills"], json!([]));
    assert_eq!(plain.body["zones"], json!([]));
    assert_eq!(plain.body["hourly_rate"], json!({ "amount_minor": 0, "currency": "RUB" }));
    assert_eq!(plain.body["max_jobs_per_day"], 8);
    assert_eq!(plain.body["calendar_color"], "#1e88e5");
    let petr = plain.body["user"]["id"].as_str().unwrap().to_owned();

    let bad = app
        .post(
            "/api/v1/technicians",
            Some(&admin),
            json!({ "email": "bad@acme.test", "full_name": "Bad", "skills": ["ok", "two words"], "zones": [""],
                    "hourly_rate_minor": -5, "max_jobs_per_day": 51, "calendar_color": "orange" }),
        )
        .await;
    assert_eq!(
        failed_fields(&bad),
        ["calendar_color", "hourly_rate_minor", "max_jobs_per_day", "skills[1]", "zones[0]"]
    );
    assert_eq!(field_code(&bad, "skills[1]"), "invalid_tag");
    assert_eq!(field_code(&bad, "max_jobs_per_day"), "out_of_range");

    let electric = app
        .post(
            "/api/v1/technicians",
            Some(&admin),
            json!({ "email": "olga@acme.test", "full_name": "Olga", "skills": ["electrical"], "zones": ["north"] }),
        )
        .await;
    let olga = electric.body["user"]["id"].as_str().unwrap().to_owned();
    let east = app
        .post(
            "/api/v1/technicians",
            Some(&admin),
            json!({ "email": "anna@acme.test", "full_name": "Anna", "skills": ["hvac"], "zones": ["east"] }),
        )
        .await;
    let anna = east.body["user"]["id"].as_str().unwrap().to_owned();
    // A dispatcher is a user but not a technician: never in the list.
    app.with_user(org, Role::Dispatcher, "disp@acme.test").await;

    let cases: [(&str, Vec<&String>); 9] = [
        ("", vec![&ivan, &petr, &olga, &anna]),
        ("?skill=HVAC", vec![&ivan, &anna]),
        ("?skill=%20hvac%20", vec![&ivan, &anna]),
        ("?skill=plumbing&zone=SOUTH", vec![&ivan]),
        ("?zone=north", vec![&ivan, &olga]),
        ("?skill=hvac&zone=north", vec![&ivan]),
        ("?skill=welding", vec![]),
        ("?skill=two%20words", vec![]),
        ("?zone=east&skill=electrical", vec![]),
    ];
    for (query, expected) in cases {
        let response = app.get(&format!("/api/v1/technicians{query}"), Some(&admin)).await;
        assert_eq!(response.status, StatusCode::OK, "{query}: {:?}", response.body);
        assert_eq!(ids(&response.body), expected.into_iter().cloned().collect::<Vec<_>>(), "{query}");
    }

    let disabled = app.post(&format!("/api/v1/users/{olga}/disable"), Some(&admin), json!({})).await;
    assert_eq!(disabled.status, StatusCode::OK);
    let off = app.get("/api/v1/technicians?status=disabled", Some(&admin)).await;
    assert_eq!(ids(&off.body), [olga.as_str()]);
    assert_eq!(off.body["items"][0]["user"]["status"], "disabled");
    let on = app.get("/api/v1/technicians?status=active&zone=north", Some(&admin)).await;
    assert_eq!(ids(&on.body), [ivan.as_str()]);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn working_hours_round_trip_and_bad_ones_change_nothing(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    let disp = app.with_user(org, Role::Dispatcher, "disp@acme.test").await;
    let tech = app.with_technician(org, "tech@acme.test", &["hvac"], &["north"]).await;
    let admin = app.token_for("admin@acme.test").await;
    let path = format!("/api/v1/technicians/{tech}");

    let hours = json!({
        "mon": [{ "start": "09:00", "end": "13:00" }, { "start": "14:00", "end": "18:00" }],
        "wed": [{ "start": "00:00", "end": "23:59" }],
        "sat": [{ "start": "10:30", "end": "14:15" }],
    });
    let changed = app
        .patch(
            &path,
            Some(&admin),
            json!({ "working_hours": hours, "skills": ["Electrical"], "hourly_rate_minor": 99_900, "max_jobs_per_day": 50, "calendar_color": "#ABCDEF" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["working_hours"], hours, "working hours come back exactly as sent");
    assert_eq!(changed.body["skills"], json!(["electrical"]));
    assert_eq!(changed.body["zones"], json!(["north"]), "an absent field stays as it was");
    assert_eq!(changed.body["hourly_rate"], json!({ "amount_minor": 99_900, "currency": "RUB" }));
    assert_eq!(changed.body["max_jobs_per_day"], 50);
    assert_eq!(changed.body["calendar_color"], "#abcdef");
    let stored = app.get(&path, Some(&admin)).await;
    assert_eq!(stored.body, changed.body);

    let refused = [
        (
            json!({ "working_hours": { "tue": [{ "start": "18:00", "end": "09:00" }] } }),
            vec![("working_hours.tue[0]", "invalid_shift")],
        ),
        (
            json!({ "working_hours": { "fri": [{ "start": "09:00", "end": "09:00" }] } }),
            vec![("working_hours.fri[0]", "invalid_shift")],
        ),
        (
            json!({ "working_hours": { "mon": [{ "start": "09:00", "end": "13:00" }, { "start": "12:00", "end": "18:00" }] } }),
            vec![("working_hours.mon[1]", "overlapping_shift")],
        ),
        // Out of order: the shift that starts inside another is the one named, by its index as sent.
        (
            json!({ "working_hours": { "thu": [{ "start": "14:00", "end": "18:00" }, { "start": "09:00", "end": "14:30" }] } }),
            vec![("working_hours.thu[0]", "overlapping_shift")],
        ),
        (
            json!({ "skills": ["plumbing"], "max_jobs_per_day": 0, "calendar_color": "red",
                    "working_hours": { "mon": [{ "start": "09:00", "end": "18:00" }, { "start": "10:00", "end": "11:00" }],
                                       "sun": [{ "start": "12:00", "end": "08:00" }] } }),
            vec![
                ("calendar_color", "invalid_color"),
                ("max_jobs_per_day", "out_of_range"),
                ("working_hours.mon[1]", "overlapping_shift"),
                ("working_hours.sun[0]", "invalid_shift"),
            ],
        ),
        (
            json!({ "max_jobs_per_day": 51, "hourly_rate_minor": -1 }),
            vec![("hourly_rate_minor", "out_of_range"), ("max_jobs_per_day", "out_of_range")],
        ),
        (json!({ "zones": ["ok", "not ok"] }), vec![("zones[1]", "invalid_tag")]),
    ];
    for (body, expected) in refused {
        let response = app.patch(&path, Some(&admin), body.clone()).await;
        let paths: Vec<&str> = expected.iter().map(|(path, _)| *path).collect();
        assert_eq!(failed_fields(&response), paths, "{body}");
        for (field, code) in expected {
            assert_eq!(field_code(&response, field), code, "{body}: {field}");
        }
        assert_eq!(app.get(&path, Some(&admin)).await.body, stored.body, "a refused PATCH changes nothing: {body}");
    }

    // Not `HH:MM`, or not a weekday: the body does not deserialize, so 422 without field details.
    for body in [
        json!({ "working_hours": { "mon": [{ "start": "9am", "end": "18:00" }] } }),
        json!({ "working_hours": { "mon": [{ "start": "09:00", "end": "25:00" }] } }),
        json!({ "working_hours": { "monday": [{ "start": "09:00", "end": "18:00" }] } }),
        json!({ "working_hours": { "mon": [{ "start": "09:00" }] } }),
        json!({ "skills": ["plumbing"], "working_hours": { "mon": [{ "start": "9am", "end": "18:00" }] } }),
    ] {
        let response = app.patch(&path, Some(&admin), body.clone()).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", response.body);
        assert_eq!(response.code(), "validation_failed", "{body}");
        assert_eq!(response.body["error"]["details"], Value::Null, "{body}");
        assert_eq!(app.get(&path, Some(&admin)).await.body, stored.body, "a refused PATCH changes nothing: {body}");
    }
    let nine_am = app
        .patch(&path, Some(&admin), json!({ "working_hours": { "mon": [{ "start": "9am", "end": "18:00" }] } }))
        .await;
    assert!(nine_am.body["error"]["message"].as_str().unwrap().contains("9am"), "{:?}", nine_am.body);

    // Clearing the week, and a PATCH of a user who is not a technician.
    let cleared = app.patch(&path, Some(&admin), json!({ "working_hours": {} })).await;
    assert_eq!(cleared.status, StatusCode::OK);
    assert_eq!(cleared.body["working_hours"], json!({}));
    assert_eq!(cleared.body["skills"], json!(["electrical"]));
    let not_tech =
        app.patch(&format!("/api/v1/technicians/{disp}"), Some(&admin), json!({ "max_jobs_per_day": 3 })).await;
    assert_eq!(not_tech.status, StatusCode::NOT_FOUND);
    assert_eq!(not_tech.code(), "not_found");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_organization_settings_are_read_by_all_and_changed_by_admins(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_org("Bolt Services").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    app.with_user(org, Role::Technician, "tech@acme.test").await;
    let admin = app.token_for("admin@acme.test").await;
    let tech = app.token_for("tech@acme.test").await;

    let read = app.get("/api/v1/org", Some(&tech)).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body["id"], org.to_string());
    assert_eq!(read.body["name"], "Acme Repairs");
    assert_eq!(read.body["time_zone"], "Europe/Moscow");
    assert_eq!(read.body["locale"], "ru");
    assert_eq!(read.body["currency"], "RUB");
    assert_eq!(app.get("/api/v1/org", Some(&admin)).await.body, read.body);

    let bad = app.patch("/api/v1/org", Some(&admin), json!({ "currency": "RUBX", "time_zone": "Mars/Base" })).await;
    assert_eq!(failed_fields(&bad), ["currency", "time_zone"]);
    assert_eq!(field_code(&bad, "currency"), "invalid_currency");
    assert_eq!(field_code(&bad, "time_zone"), "invalid_time_zone");
    let mixed = app
        .patch("/api/v1/org", Some(&admin), json!({ "name": "Acme Service", "currency": "XXY", "locale": "fr" }))
        .await;
    assert_eq!(failed_fields(&mixed), ["currency", "locale"]);
    let short = app.patch("/api/v1/org", Some(&admin), json!({ "name": "A" })).await;
    assert_eq!(failed_fields(&short), ["name"]);
    let taken = app.patch("/api/v1/org", Some(&admin), json!({ "name": "BOLT services" })).await;
    assert_eq!(failed_fields(&taken), ["name"]);
    assert_eq!(field_code(&taken, "name"), "name_taken");
    assert_eq!(app.get("/api/v1/org", Some(&admin)).await.body, read.body, "refused changes change nothing");

    let changed = app
        .patch(
            "/api/v1/org",
            Some(&admin),
            json!({ "name": "Acme Service", "time_zone": "Asia/Jerusalem", "locale": "he", "currency": "ils" }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{:?}", changed.body);
    assert_eq!(changed.body["id"], org.to_string());
    assert_eq!(changed.body["name"], "Acme Service");
    assert_eq!(changed.body["time_zone"], "Asia/Jerusalem");
    assert_eq!(changed.body["locale"], "he");
    assert_eq!(changed.body["currency"], "ILS");
    assert_eq!(changed.body["created_at"], read.body["created_at"]);
    let seen = app.get("/api/v1/org", Some(&tech)).await;
    assert_eq!(seen.body, changed.body);

    // The new settings are what new people and rates use.
    let newcomer = app
        .post(
            "/api/v1/technicians",
            Some(&admin),
            json!({ "email": "new@acme.test", "full_name": "New Tech", "hourly_rate_minor": 5000 }),
        )
        .await;
    assert_eq!(newcomer.status, StatusCode::CREATED, "{:?}", newcomer.body);
    assert_eq!(newcomer.body["user"]["locale"], "he");
    assert_eq!(newcomer.body["user"]["time_zone"], "Asia/Jerusalem");
    assert_eq!(newcomer.body["hourly_rate"], json!({ "amount_minor": 5000, "currency": "ILS" }));

    // Partial: only the named field changes.
    let renamed = app.patch("/api/v1/org", Some(&admin), json!({ "name": "Acme Field Service" })).await;
    assert_eq!(renamed.body["name"], "Acme Field Service");
    assert_eq!(renamed.body["currency"], "ILS");
    assert_eq!(renamed.body["time_zone"], "Asia/Jerusalem");
    let refused = app.patch("/api/v1/org", Some(&tech), json!({ "name": "Tech Takeover" })).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "forbidden");
    assert_eq!(app.get("/api/v1/org", Some(&tech)).await.body["name"], "Acme Field Service");
}
