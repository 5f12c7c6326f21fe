//! Customers and their sites: creation with normalized phones, the duplicate-phone hint, search by
//! name, phone and address, paging, PATCH semantics, archiving, sites, validation, isolation
//! between organizations and the role matrix.

use crate::support::{TestApp, TestResponse, ids};
use axum::http::{Method, StatusCode};
use domain::Role;
use serde_json::{Value, json};
use sqlx::PgPool;

/// Creates a customer through the API, expecting 201; answers the whole `CreatedCustomer` body.
async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let response = app.post("/api/v1/customers", Some(token), body.clone()).await;
    assert_eq!(response.status, StatusCode::CREATED, "{body}: {:?}", response.body);
    response.body
}

/// Creates a customer and answers their id.
async fn create_id(app: &TestApp, token: &str, body: Value) -> String {
    create(app, token, body).await["customer"]["id"].as_str().unwrap().to_owned()
}

/// The field paths of a 422 `validation_failed` answer.
fn failed_fields(response: &TestResponse) -> Vec<String> {
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", response.body);
    assert_eq!(response.code(), "validation_failed");
    response.body["error"]["details"]["fields"].as_object().expect("field details").keys().cloned().collect()
}

fn field_code<'a>(response: &'a TestResponse, path: &str) -> &'a str {
    response.body["error"]["details"]["fields"][path][0]["code"].as_str().unwrap_or("<none>")
}

/// The ids a list or search answers, after checking it succeeded. Non-ASCII characters of the
/// query are percent-encoded here; the rest is taken as written.
async fn found(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let encoded: String = query
        .chars()
        .map(|c| {
            let mut bytes = [0; 4];
            if c.is_ascii() {
                c.to_string()
            } else {
                c.encode_utf8(&mut bytes).bytes().map(|b| format!("%{b:02X}")).collect()
            }
        })
        .collect();
    let path = format!("/api/v1/customers?{encoded}");
    let response = app.get(&path, Some(token)).await;
    assert_eq!(response.status, StatusCode::OK, "{path}: {:?}", response.body);
    ids(&response.body)
}

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

async fn audit_actions(db: &PgPool, subject: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>("SELECT action FROM audit_log WHERE subject_id = $1::uuid ORDER BY id")
        .bind(subject)
        .fetch_all(db)
        .await
        .unwrap()
}

/// An organization with an admin, a dispatcher, a manager and a technician; answers the org and
/// the dispatcher's token.
async fn acme(app: &TestApp) -> (domain::OrgId, String) {
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    app.with_user(org, Role::Dispatcher, "disp@acme.test").await;
    (org, app.token_for("disp@acme.test").await)
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_customer_is_created_with_normalized_phones_and_sites(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (org, disp) = acme(&app).await;

    let created = create(
        &app,
        &disp,
        json!({
            "kind": "company", "name": "  ООО «Ромашка» ",
            "phones": ["8 (916) 123-45-67", "+7 916 123 45 67", "+972-50-123-4567"],
            "email": " Office@Romashka.RU ", "tax_id": "7707 083893", "notes": "  Pays by invoice\nNet 30  ",
            "preferred_channel": "telegram",
            "sites": [
                { "label": "Office", "address": " Москва, Тверская ул., 1 ", "latitude": 55.7575, "longitude": 37.6130,
                  "access_notes": "Code 1234, 3rd floor" },
                { "address": "Склад, Промышленная 7" }
            ]
        }),
    )
    .await;
    assert_eq!(created["phone_matches"], json!([]));
    let customer = &created["customer"];
    let id = customer["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(customer["org_id"], org.to_string());
    assert_eq!(customer["kind"], "company");
    assert_eq!(customer["name"], "ООО «Ромашка»");
    assert_eq!(customer["phones"], json!(["+79161234567", "+972501234567"]), "E.164, duplicates collapsed");
    assert_eq!(customer["email"], "office@romashka.ru");
    assert_eq!(customer["tax_id"], "7707083893");
    assert_eq!(customer["notes"], "Pays by invoice\nNet 30");
    assert_eq!(customer["preferred_channel"], "telegram");
    assert_eq!(customer["archived_at"], Value::Null);
    assert!(customer["created_at"].is_string() && customer["updated_at"].is_string());
    let sites = customer["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[0]["customer_id"], id);
    assert_eq!(sites[0]["label"], "Office");
    assert_eq!(sites[0]["address"], "Москва, Тверская ул., 1");
    assert_eq!(sites[0]["latitude"], 55.7575);
    assert_eq!(sites[0]["longitude"], 37.613);
    assert_eq!(sites[0]["access_notes"], "Code 1234, 3rd floor");
    assert_eq!(sites[0]["archived_at"], Value::Null);
    assert_eq!(sites[1]["address"], "Склад, Промышленная 7");
    for field in ["label", "latitude", "longitude", "access_notes"] {
        assert_eq!(sites[1][field], Value::Null, "{field}");
    }
    assert!(sites[0]["id"].as_str() < sites[1]["id"].as_str(), "sites in creation order");

    let read = app.get(&format!("/api/v1/customers/{id}"), Some(&disp)).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(&read.body, customer, "GET answers what POST answered");
    assert_eq!(audit_actions(&db, id).await, ["customer.created"]);

    // The least a customer needs: a kind and a name.
    let bare = create(&app, &disp, json!({ "kind": "person", "name": "Ann" })).await;
    let bare = &bare["customer"];
    assert_eq!(bare["phones"], json!([]));
    assert_eq!(bare["sites"], json!([]));
    for field in ["email", "tax_id", "notes", "preferred_channel"] {
        assert_eq!(bare[field], Value::Null, "{field}");
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_known_phone_is_hinted_within_the_organization_only(db: PgPool) {
    let app = TestApp::new(db).await;
    let (_, disp) = acme(&app).await;
    let bolt = app.with_org("Bolt Services").await;
    app.with_user(bolt, Role::Dispatcher, "disp@bolt.test").await;
    let bolt_disp = app.token_for("disp@bolt.test").await;

    let first =
        create_id(&app, &disp, json!({ "kind": "person", "name": "Ivan Petrov", "phones": ["+7 916 123-45-67"] }))
            .await;
    let bolt_same =
        create(&app, &bolt_disp, json!({ "kind": "person", "name": "Bolt's Ivan", "phones": ["+79161234567"] })).await;
    assert_eq!(bolt_same["phone_matches"], json!([]), "another organization's customer is never hinted");
    let archived =
        create_id(&app, &disp, json!({ "kind": "person", "name": "Old Ivan", "phones": ["+79161234567"] })).await;
    let archive = app.post(&format!("/api/v1/customers/{archived}/archive"), Some(&disp), json!({})).await;
    assert_eq!(archive.status, StatusCode::OK);

    // Same number in another notation, among others: the first customer is named, and only them.
    let second = create(
        &app,
        &disp,
        json!({ "kind": "company", "name": "Petrov & Sons", "phones": ["+44 20 7946 0958", "8 (916) 123 45 67"] }),
    )
    .await;
    assert_eq!(second["customer"]["phones"], json!(["+442079460958", "+79161234567"]));
    assert_eq!(
        second["phone_matches"],
        json!([{ "id": first, "kind": "person", "name": "Ivan Petrov", "phones": ["+79161234567"] }])
    );
    let second_id = second["customer"]["id"].as_str().unwrap().to_owned();

    // A third one with both numbers hears of both earlier customers, oldest first.
    let third =
        create(&app, &disp, json!({ "kind": "person", "name": "Maria", "phones": ["+442079460958", "+79161234567"] }))
            .await;
    let matched: Vec<&str> =
        third["phone_matches"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(matched, [first.as_str(), second_id.as_str()]);

    // An unknown number, or none at all: no hint.
    let fresh = create(&app, &disp, json!({ "kind": "person", "name": "Olga", "phones": ["+79990001122"] })).await;
    assert_eq!(fresh["phone_matches"], json!([]));
    let none = create(&app, &disp, json!({ "kind": "person", "name": "Nobody" })).await;
    assert_eq!(none["phone_matches"], json!([]));

    // In Bolt, the same number hints Bolt's customer only.
    let bolt_second =
        create(&app, &bolt_disp, json!({ "kind": "person", "name": "Bolt 2", "phones": ["89161234567"] })).await;
    let bolt_matches: Vec<&str> =
        bolt_second["phone_matches"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(bolt_matches, [bolt_same["customer"]["id"].as_str().unwrap()]);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn search_finds_customers_by_name_phone_and_address(db: PgPool) {
    let app = TestApp::new(db).await;
    let (_, disp) = acme(&app).await;
    let bolt = app.with_org("Bolt Services").await;
    app.with_user(bolt, Role::Dispatcher, "disp@bolt.test").await;
    let bolt_disp = app.token_for("disp@bolt.test").await;

    let ivanov = create_id(
        &app,
        &disp,
        json!({ "kind": "person", "name": "Сергей Иванов", "phones": ["+7 916 123-45-67"],
                "sites": [{ "address": "Москва, ул. Ленина, 10, кв. 5" }] }),
    )
    .await;
    let romashka = create(
        &app,
        &disp,
        json!({ "kind": "company", "name": "Romashka LLC", "phones": ["+7 495 765-43-21"],
                "sites": [{ "address": "Khimki, Leningradskoye 39 (Romashka warehouse)" }, { "address": "Moscow, Arbat 12" }] }),
    )
    .await;
    let romashka_id = romashka["customer"]["id"].as_str().unwrap().to_owned();
    let percent = create_id(&app, &disp, json!({ "kind": "company", "name": "100% Clean_Team" })).await;
    let hidden = create_id(
        &app,
        &disp,
        json!({ "kind": "person", "name": "Romashka Archived", "phones": ["+79161234599"],
                "sites": [{ "address": "Arbat 99" }] }),
    )
    .await;
    assert_eq!(
        app.post(&format!("/api/v1/customers/{hidden}/archive"), Some(&disp), json!({})).await.status,
        StatusCode::OK
    );
    // Another organization's look-alike never shows up.
    create(
        &app,
        &bolt_disp,
        json!({ "kind": "person", "name": "Иванов Bolt", "phones": ["+79161234567"],
                "sites": [{ "address": "Moscow, Arbat 12" }] }),
    )
    .await;

    // By name fragment, case-insensitively, in any script.
    assert_eq!(found(&app, &disp, "q=иВаН").await, [ivanov.as_str()]);
    // Matched by name and by address, the customer still comes once.
    assert_eq!(found(&app, &disp, "q=romash").await, [romashka_id.as_str()]);
    assert_eq!(found(&app, &disp, "q=romash&include_archived=true").await, [romashka_id.as_str(), hidden.as_str()]);
    // By phone: a fragment of digits in any grouping, or the whole number in another notation.
    assert_eq!(found(&app, &disp, "q=916%20123").await, [ivanov.as_str()]);
    assert_eq!(found(&app, &disp, "q=8%20(916)%20123-45-67").await, [ivanov.as_str()]);
    assert_eq!(found(&app, &disp, "q=%2B74957654321").await, [romashka_id.as_str()]);
    assert_eq!(found(&app, &disp, "q=765-43").await, [romashka_id.as_str()]);
    assert_eq!(found(&app, &disp, "q=9161234").await, [ivanov.as_str()]);
    assert_eq!(found(&app, &disp, "q=9161234&include_archived=true").await, [ivanov.as_str(), hidden.as_str()]);
    // By address of any active site.
    assert_eq!(found(&app, &disp, "q=ленина").await, [ivanov.as_str()]);
    assert_eq!(found(&app, &disp, "q=arbat").await, [romashka_id.as_str()]);
    assert_eq!(found(&app, &disp, "q=LENINGRAD").await, [romashka_id.as_str()]);
    assert_eq!(found(&app, &disp, "q=1").await, [ivanov.as_str(), romashka_id.as_str(), percent.as_str()]);
    // Wildcards are literal; nonsense finds nothing; a blank query lists everyone active.
    assert_eq!(found(&app, &disp, "q=100%25").await, [percent.as_str()]);
    assert_eq!(found(&app, &disp, "q=a%25c").await, Vec::<String>::new());
    assert_eq!(found(&app, &disp, "q=c_e").await, Vec::<String>::new());
    assert_eq!(found(&app, &disp, "q=_team").await, [percent.as_str()]);
    assert_eq!(found(&app, &disp, "q=zzzz").await, Vec::<String>::new());
    assert_eq!(found(&app, &disp, "q=%20%20").await, [ivanov.as_str(), romashka_id.as_str(), percent.as_str()]);

    // An archived site no longer matches.
    let arbat = romashka["customer"]["sites"][1]["id"].as_str().unwrap();
    let archived =
        app.post(&format!("/api/v1/customers/{romashka_id}/sites/{arbat}/archive"), Some(&disp), json!({})).await;
    assert_eq!(archived.status, StatusCode::OK, "{:?}", archived.body);
    assert_eq!(found(&app, &disp, "q=arbat").await, Vec::<String>::new());
    // Bolt searches see only Bolt.
    assert_eq!(found(&app, &bolt_disp, "q=romash").await, Vec::<String>::new());
    assert_eq!(found(&app, &bolt_disp, "q=9161234567").await.len(), 1);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn lists_and_searches_page_through_everyone_once(db: PgPool) {
    let app = TestApp::new(db).await;
    let (_, disp) = acme(&app).await;
    let mut created = Vec::new();
    for n in 0..7 {
        let name = if n % 2 == 0 { format!("Even Customer {n}") } else { format!("Odd Customer {n}") };
        created.push(create_id(&app, &disp, json!({ "kind": "person", "name": name })).await);
    }
    let evens: Vec<String> = created.iter().step_by(2).cloned().collect();

    for (base, expected, limit, sizes) in [
        ("/api/v1/customers", created.clone(), 3, vec![3, 3, 1]),
        ("/api/v1/customers?q=customer", created.clone(), 7, vec![7]),
        ("/api/v1/customers?q=even", evens.clone(), 2, vec![2, 2]),
    ] {
        let mut cursor: Option<String> = None;
        let mut seen = Vec::new();
        let mut seen_sizes = Vec::new();
        loop {
            let path = match &cursor {
                Some(c) => format!("{base}{}limit={limit}&cursor={c}", if base.contains('?') { '&' } else { '?' }),
                None => format!("{base}{}limit={limit}", if base.contains('?') { '&' } else { '?' }),
            };
            let page = app.get(&path, Some(&disp)).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {:?}", page.body);
            let items = ids(&page.body);
            seen_sizes.push(items.len());
            seen.extend(items);
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
            assert!(seen.len() <= 7, "{base}: paging never ends");
        }
        assert_eq!(seen, expected, "{base}");
        assert_eq!(seen_sizes, sizes, "{base}");
    }
    let clamped = app.get("/api/v1/customers?limit=0", Some(&disp)).await;
    assert_eq!(ids(&clamped.body), created[..1]);
    let bad = app.get("/api/v1/customers?include_archived=maybe", Some(&disp)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "bad_request");
    let unknown = app.get("/api/v1/customers?name=x", Some(&disp)).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn patch_changes_exactly_the_fields_given(db: PgPool) {
    let app = TestApp::new(db).await;
    let (_, disp) = acme(&app).await;
    let created = create(
        &app,
        &disp,
        json!({ "kind": "person", "name": "Ann Lee", "phones": ["+79161234567"], "email": "ann@example.com",
                "tax_id": "500100732259", "notes": "VIP", "preferred_channel": "sms",
                "sites": [{ "address": "Tverskaya 1" }] }),
    )
    .await;
    let id = created["customer"]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/customers/{id}");
    let original = created["customer"].clone();

    let without_times = |mut v: Value| {
        v.as_object_mut().unwrap().remove("updated_at");
        v
    };
    let nothing = app.patch(&path, Some(&disp), json!({})).await;
    assert_eq!(nothing.status, StatusCode::OK, "{:?}", nothing.body);
    assert_eq!(without_times(nothing.body), without_times(original.clone()), "an empty PATCH changes nothing");

    let renamed = app.patch(&path, Some(&disp), json!({ "name": " Ann Lee-Smith ", "kind": "company" })).await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let mut expected = original.clone();
    expected["name"] = json!("Ann Lee-Smith");
    expected["kind"] = json!("company");
    assert_eq!(without_times(renamed.body.clone()), without_times(expected.clone()));

    let cleared = app
        .patch(
            &path,
            Some(&disp),
            json!({ "email": null, "tax_id": null, "notes": "   ", "preferred_channel": null,
                    "phones": ["8 495 765 43 21", "+7 (916) 123-45-67"] }),
        )
        .await;
    assert_eq!(cleared.status, StatusCode::OK, "{:?}", cleared.body);
    for field in ["email", "tax_id", "notes", "preferred_channel"] {
        expected[field] = Value::Null;
    }
    expected["phones"] = json!(["+74957654321", "+79161234567"]);
    assert_eq!(without_times(cleared.body.clone()), without_times(expected.clone()));

    let set = app
        .patch(&path, Some(&disp), json!({ "email": "ANN@example.org", "preferred_channel": "email", "phones": [] }))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    expected["email"] = json!("ann@example.org");
    expected["preferred_channel"] = json!("email");
    expected["phones"] = json!([]);
    assert_eq!(without_times(set.body.clone()), without_times(expected.clone()));

    // A bad PATCH names every bad field and changes nothing.
    let bad = app
        .patch(
            &path,
            Some(&disp),
            json!({ "name": "", "email": "nope", "tax_id": "#", "phones": ["+79161234567", "123"] }),
        )
        .await;
    assert_eq!(failed_fields(&bad), ["email", "name", "phones[1]", "tax_id"]);
    assert_eq!(field_code(&bad, "phones[1]"), "invalid_phone");
    for body in [json!({ "kind": "robot" }), json!({ "sites": [] }), json!({ "phones": "+79161234567" })] {
        let refused = app.patch(&path, Some(&disp), body.clone()).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", refused.body);
    }
    let now = app.get(&path, Some(&disp)).await;
    assert_eq!(now.body, set.body, "refused PATCHes changed nothing");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn archived_customers_leave_lists_but_stay_readable_and_come_back(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (_, disp) = acme(&app).await;
    let keep = create_id(&app, &disp, json!({ "kind": "person", "name": "Keeper" })).await;
    let gone = create_id(&app, &disp, json!({ "kind": "person", "name": "Leaver" })).await;

    let archived = app.post(&format!("/api/v1/customers/{gone}/archive"), Some(&disp), json!({})).await;
    assert_eq!(archived.status, StatusCode::OK, "{:?}", archived.body);
    let archived_at = archived.body["archived_at"].as_str().expect("archived_at is set").to_owned();
    assert_eq!(found(&app, &disp, "").await, [keep.as_str()]);
    assert_eq!(found(&app, &disp, "include_archived=false").await, [keep.as_str()]);
    assert_eq!(found(&app, &disp, "include_archived=true").await, [keep.as_str(), gone.as_str()]);
    let read = app.get(&format!("/api/v1/customers/{gone}"), Some(&disp)).await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, archived.body);

    // Archiving twice keeps the first time and records nothing new.
    let again = app.post(&format!("/api/v1/customers/{gone}/archive"), Some(&disp), json!({})).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["archived_at"], archived_at.as_str());

    let restored = app.post(&format!("/api/v1/customers/{gone}/restore"), Some(&disp), json!({})).await;
    assert_eq!(restored.status, StatusCode::OK, "{:?}", restored.body);
    assert_eq!(restored.body["archived_at"], Value::Null);
    assert_eq!(found(&app, &disp, "").await, [keep.as_str(), gone.as_str()]);
    let twice = app.post(&format!("/api/v1/customers/{gone}/restore"), Some(&disp), json!({})).await;
    assert_eq!(twice.status, StatusCode::OK);
    assert_eq!(twice.body["archived_at"], Value::Null);
    assert_eq!(audit_actions(&db, &gone).await, ["customer.created", "customer.archived", "customer.restored"]);

    let missing = uuid::Uuid::now_v7();
    for action in ["archive", "restore"] {
        let response = app.post(&format!("/api/v1/customers/{missing}/{action}"), Some(&disp), json!({})).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{action}");
        assert_eq!(response.code(), "not_found");
    }
    let not_an_id = app.get("/api/v1/customers/not-a-uuid", Some(&disp)).await;
    assert_eq!(not_an_id.status, StatusCode::BAD_REQUEST);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn sites_are_added_edited_and_archived(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (_, disp) = acme(&app).await;
    let id = create_id(&app, &disp, json!({ "kind": "company", "name": "Chain Store" })).await;
    let other =
        create(&app, &disp, json!({ "kind": "person", "name": "Other", "sites": [{ "address": "Elsewhere 1" }] }))
            .await;
    let other_id = other["customer"]["id"].as_str().unwrap().to_owned();
    let other_site = other["customer"]["sites"][0]["id"].as_str().unwrap().to_owned();

    let added = app
        .post(
            &format!("/api/v1/customers/{id}/sites"),
            Some(&disp),
            json!({ "label": " Main ", "address": " Nevsky 28 ", "latitude": 59.9358, "longitude": 30.3259 }),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{:?}", added.body);
    assert_eq!(added.body["customer_id"], id);
    assert_eq!(added.body["label"], "Main");
    assert_eq!(added.body["address"], "Nevsky 28");
    assert_eq!(added.body["latitude"], 59.9358);
    let site = added.body["id"].as_str().unwrap().to_owned();
    let site_path = format!("/api/v1/customers/{id}/sites/{site}");
    let customer = app.get(&format!("/api/v1/customers/{id}"), Some(&disp)).await;
    assert_eq!(customer.body["sites"], json!([added.body.clone()]));

    // PATCH: only what is given; null clears; coordinates move together.
    let edited = app.patch(&site_path, Some(&disp), json!({ "access_notes": "Back door", "label": null })).await;
    assert_eq!(edited.status, StatusCode::OK, "{:?}", edited.body);
    assert_eq!(edited.body["access_notes"], "Back door");
    assert_eq!(edited.body["label"], Value::Null);
    assert_eq!(edited.body["address"], "Nevsky 28");
    assert_eq!(edited.body["latitude"], 59.9358);
    let moved = app.patch(&site_path, Some(&disp), json!({ "latitude": -33.8688, "longitude": 151.2093 })).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!((moved.body["latitude"].clone(), moved.body["longitude"].clone()), (json!(-33.8688), json!(151.2093)));
    assert_eq!(moved.body["access_notes"], "Back door");
    let unplaced = app.patch(&site_path, Some(&disp), json!({ "latitude": null, "longitude": null })).await;
    assert_eq!(unplaced.status, StatusCode::OK, "{:?}", unplaced.body);
    assert_eq!((unplaced.body["latitude"].clone(), unplaced.body["longitude"].clone()), (Value::Null, Value::Null));

    for (body, fields) in [
        (json!({ "latitude": 10.0 }), vec!["longitude"]),
        (json!({ "longitude": 10.0, "latitude": null }), vec!["latitude"]),
        (json!({ "latitude": 90.5, "longitude": 180.5 }), vec!["latitude", "longitude"]),
        (json!({ "address": "  ", "label": "x".repeat(81) }), vec!["address", "label"]),
    ] {
        let refused = app.patch(&site_path, Some(&disp), body.clone()).await;
        assert_eq!(failed_fields(&refused), fields, "{body}");
    }
    let still = app.get(&format!("/api/v1/customers/{id}"), Some(&disp)).await;
    assert_eq!(still.body["sites"], json!([unplaced.body.clone()]), "refused site PATCHes changed nothing");

    // A site is reached only through its own customer.
    let crossed = [
        (Method::PATCH, format!("/api/v1/customers/{id}/sites/{other_site}"), Some(json!({ "address": "Stolen 1" }))),
        (Method::POST, format!("/api/v1/customers/{id}/sites/{other_site}/archive"), Some(json!({}))),
        (Method::PATCH, format!("/api/v1/customers/{other_id}/sites/{site}"), Some(json!({ "address": "Stolen 2" }))),
        (Method::POST, format!("/api/v1/customers/{other_id}/sites/{site}/archive"), Some(json!({}))),
    ];
    for (method, path, body) in crossed {
        let response = app.request(method.clone(), &path, Some(&disp), body).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}: {:?}", response.body);
        assert_eq!(response.body["error"]["message"], "site not found");
    }
    let ghost = uuid::Uuid::now_v7();
    let no_customer = app.patch(&format!("/api/v1/customers/{ghost}/sites/{site}"), Some(&disp), json!({})).await;
    assert_eq!(no_customer.status, StatusCode::NOT_FOUND);
    assert_eq!(no_customer.body["error"]["message"], "customer not found");
    assert_eq!(app.get(&format!("/api/v1/customers/{other_id}"), Some(&disp)).await.body, other["customer"]);

    let archived = app.post(&format!("{site_path}/archive"), Some(&disp), json!({})).await;
    assert_eq!(archived.status, StatusCode::OK, "{:?}", archived.body);
    let archived_at = archived.body["archived_at"].as_str().expect("archived").to_owned();
    let again = app.post(&format!("{site_path}/archive"), Some(&disp), json!({})).await;
    assert_eq!(again.body["archived_at"], archived_at.as_str(), "archiving twice keeps the first time");
    let card = app.get(&format!("/api/v1/customers/{id}"), Some(&disp)).await;
    assert_eq!(card.body["sites"][0]["archived_at"], archived_at.as_str(), "an archived site stays on the card");
    assert_eq!(
        audit_actions(&db, &site).await,
        [
            "customer.site_added",
            "customer.site_updated",
            "customer.site_updated",
            "customer.site_updated",
            "customer.site_archived"
        ]
    );
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_customer_has_at_most_100_sites(db: PgPool) {
    let app = TestApp::new(db).await;
    let (_, disp) = acme(&app).await;
    let sites: Vec<Value> = (0..100).map(|n| json!({ "address": format!("Street {n}") })).collect();
    let id = create_id(&app, &disp, json!({ "kind": "company", "name": "Big Chain", "sites": sites })).await;
    let full = app.post(&format!("/api/v1/customers/{id}/sites"), Some(&disp), json!({ "address": "One more" })).await;
    assert_eq!(full.status, StatusCode::CONFLICT, "{:?}", full.body);
    assert_eq!(full.code(), "site_limit_reached");
    let card = app.get(&format!("/api/v1/customers/{id}"), Some(&disp)).await;
    assert_eq!(card.body["sites"].as_array().unwrap().len(), 100);

    let too_many: Vec<Value> = (0..101).map(|n| json!({ "address": format!("Street {n}") })).collect();
    let refused = app
        .post("/api/v1/customers", Some(&disp), json!({ "kind": "company", "name": "Bigger", "sites": too_many }))
        .await;
    assert_eq!(failed_fields(&refused), ["sites"]);
    assert_eq!(field_code(&refused, "sites"), "too_many");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn invalid_customers_are_refused_with_every_field_path_and_nothing_is_created(db: PgPool) {
    let app = TestApp::new(db.clone()).await;
    let (_, disp) = acme(&app).await;

    let bad = app
        .post(
            "/api/v1/customers",
            Some(&disp),
            json!({
                "kind": "person", "name": "   ", "phones": ["+7 916 123-45-67", "not a phone", "12"],
                "email": "ann@", "tax_id": "?", "notes": "x".repeat(4001),
                "sites": [
                    { "address": "Fine 1", "latitude": 55.0, "longitude": 37.0 },
                    { "address": "Bad lat", "latitude": 120.0, "longitude": 37.0 },
                    { "address": "", "longitude": 37.0 },
                    { "address": "Half", "latitude": 55.0, "access_notes": "bell\u{0007}" }
                ]
            }),
        )
        .await;
    assert_eq!(
        failed_fields(&bad),
        [
            "email",
            "name",
            "notes",
            "phones[1]",
            "phones[2]",
            "sites[1].latitude",
            "sites[2].address",
            "sites[2].latitude",
            "sites[3].access_notes",
            "sites[3].longitude",
            "tax_id"
        ]
    );
    assert_eq!(field_code(&bad, "sites[1].latitude"), "out_of_range");
    assert_eq!(field_code(&bad, "sites[2].latitude"), "coordinates_incomplete");
    assert_eq!(field_code(&bad, "sites[2].address"), "too_short");
    assert_eq!(field_code(&bad, "name"), "too_short");
    assert_eq!(field_code(&bad, "email"), "invalid_email");
    assert_eq!(field_code(&bad, "tax_id"), "invalid_tax_id");
    assert_eq!(field_code(&bad, "notes"), "too_long");

    let phones: Vec<String> = (0..11).map(|n| format!("+7916123450{n}")).collect();
    let many =
        app.post("/api/v1/customers", Some(&disp), json!({ "kind": "person", "name": "Many", "phones": phones })).await;
    assert_eq!(failed_fields(&many), ["phones"]);

    // Bodies that do not deserialize: 422 without field details.
    for body in [
        json!({ "name": "No kind" }),
        json!({ "kind": "alien", "name": "X" }),
        json!({ "kind": "person", "name": "X", "preferred_channel": "pigeon" }),
        json!({ "kind": "person", "name": "X", "vip": true }),
        json!({ "kind": "person", "name": "X", "sites": [{ "address": "A", "floor": 3 }] }),
        json!({ "kind": "person", "name": "X", "sites": [{ "label": "no address" }] }),
    ] {
        let response = app.post("/api/v1/customers", Some(&disp), body.clone()).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {:?}", response.body);
        assert_eq!(response.code(), "validation_failed", "{body}");
    }
    let site_bad = app
        .post(
            &format!(
                "/api/v1/customers/{}/sites",
                create_id(&app, &disp, json!({ "kind": "person", "name": "Ok" })).await
            ),
            Some(&disp),
            json!({ "address": "A", "latitude": 1.0 }),
        )
        .await;
    assert_eq!(failed_fields(&site_bad), ["longitude"]);

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM customers").fetch_one(&db).await.unwrap();
    assert_eq!(count, 1, "only the valid customer was created");
    let sites: i64 = sqlx::query_scalar("SELECT count(*) FROM customer_sites").fetch_one(&db).await.unwrap();
    assert_eq!(sites, 0);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn another_organizations_customers_are_not_found_and_stay_untouched(db: PgPool) {
    let app = TestApp::new(db).await;
    let (_, acme_disp) = acme(&app).await;
    let acme_admin = app.token_for("admin@acme.test").await;
    let bolt = app.with_org("Bolt Services").await;
    app.with_user(bolt, Role::Admin, "admin@bolt.test").await;
    let b = app.token_for("admin@bolt.test").await;
    let theirs = create(
        &app,
        &b,
        json!({ "kind": "person", "name": "Bolt Client", "phones": ["+79161112233"],
                "sites": [{ "address": "Bolt street 1" }] }),
    )
    .await;
    let archived_theirs = create_id(&app, &b, json!({ "kind": "person", "name": "Bolt Archived" })).await;
    assert_eq!(
        app.post(&format!("/api/v1/customers/{archived_theirs}/archive"), Some(&b), json!({})).await.status,
        StatusCode::OK
    );
    let cid = theirs["customer"]["id"].as_str().unwrap().to_owned();
    let sid = theirs["customer"]["sites"][0]["id"].as_str().unwrap().to_owned();
    let own = create(
        &app,
        &acme_disp,
        json!({ "kind": "person", "name": "Acme Client", "sites": [{ "address": "Acme 1" }] }),
    )
    .await;
    let own_id = own["customer"]["id"].as_str().unwrap().to_owned();
    let own_site = own["customer"]["sites"][0]["id"].as_str().unwrap().to_owned();

    let bolt_paths = [
        format!("/api/v1/customers/{cid}"),
        format!("/api/v1/customers/{archived_theirs}"),
        "/api/v1/customers?include_archived=true".to_owned(),
    ];
    let before = read_all(&app, &b, &bolt_paths).await;

    let mut cases: Vec<(Method, String, Option<Value>)> = Vec::new();
    for customer in [&cid, &archived_theirs] {
        cases.extend([
            (Method::GET, format!("/api/v1/customers/{customer}"), None),
            (Method::PATCH, format!("/api/v1/customers/{customer}"), Some(json!({ "name": "Taken", "email": null }))),
            (Method::PATCH, format!("/api/v1/customers/{customer}"), Some(json!({}))),
            (Method::POST, format!("/api/v1/customers/{customer}/archive"), Some(json!({}))),
            (Method::POST, format!("/api/v1/customers/{customer}/restore"), Some(json!({}))),
            (Method::POST, format!("/api/v1/customers/{customer}/sites"), Some(json!({ "address": "Planted 1" }))),
        ]);
    }
    cases.extend([
        (Method::PATCH, format!("/api/v1/customers/{cid}/sites/{sid}"), Some(json!({ "address": "Moved" }))),
        (Method::POST, format!("/api/v1/customers/{cid}/sites/{sid}/archive"), Some(json!({}))),
        // Their site under our customer, and our site under theirs.
        (Method::PATCH, format!("/api/v1/customers/{own_id}/sites/{sid}"), Some(json!({ "label": "Mine" }))),
        (Method::POST, format!("/api/v1/customers/{own_id}/sites/{sid}/archive"), Some(json!({}))),
        (Method::PATCH, format!("/api/v1/customers/{cid}/sites/{own_site}"), Some(json!({ "label": "Theirs" }))),
        (Method::POST, format!("/api/v1/customers/{cid}/sites/{own_site}/archive"), Some(json!({}))),
    ]);
    for token in [&acme_disp, &acme_admin] {
        for (method, path, body) in &cases {
            let response = app.request(method.clone(), path, Some(token), body.clone()).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}: {:?}", response.body);
            assert_eq!(response.code(), "not_found", "{method} {path}");
        }
    }

    assert_eq!(read_all(&app, &b, &bolt_paths).await, before, "refused cross-organization requests change nothing");
    assert_eq!(app.get(&format!("/api/v1/customers/{own_id}"), Some(&acme_disp)).await.body, own["customer"]);
    for query in ["", "include_archived=true"] {
        assert_eq!(found(&app, &acme_disp, query).await, [own_id.as_str()], "{query}");
    }
    for query in ["q=bolt", "q=9161112233", "q=street"] {
        assert_eq!(found(&app, &acme_disp, query).await, Vec::<String>::new(), "{query}");
    }
    let cursor = found(&app, &acme_disp, &format!("cursor={}", uuid::Uuid::nil())).await;
    assert_eq!(cursor, [own_id.as_str()]);
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
async fn every_role_gets_exactly_the_customer_routes_it_may_use(db: PgPool) {
    let app = TestApp::new(db).await;
    let org = app.with_org("Acme Repairs").await;
    app.with_user(org, Role::Admin, "admin@acme.test").await;
    app.with_user(org, Role::Dispatcher, "disp@acme.test").await;
    app.with_user(org, Role::Manager, "boss@acme.test").await;
    app.with_technician(org, "tech@acme.test", &["hvac"], &["north"]).await;
    let roles = [
        (Role::Technician, "technician", app.token_for("tech@acme.test").await),
        (Role::Manager, "manager", app.token_for("boss@acme.test").await),
        (Role::Dispatcher, "dispatcher", app.token_for("disp@acme.test").await),
        (Role::Admin, "admin", app.token_for("admin@acme.test").await),
    ];
    let admin = roles[3].2.clone();
    let target = create(
        &app,
        &admin,
        json!({ "kind": "person", "name": "Target", "phones": ["+79161234567"], "sites": [{ "address": "Target 1" }] }),
    )
    .await;
    let id = target["customer"]["id"].as_str().unwrap().to_owned();
    let site = target["customer"]["sites"][0]["id"].as_str().unwrap().to_owned();

    const WRITERS: &[Role] = &[Role::Admin, Role::Dispatcher];
    const READERS: &[Role] = &[Role::Admin, Role::Dispatcher, Role::Manager];
    let cases = |name: &str| {
        let case = |method: Method, path: String, body: Option<Value>, allowed: &'static [Role], ok: StatusCode| Case {
            method,
            path,
            body,
            allowed,
            ok,
        };
        vec![
            case(Method::GET, "/api/v1/customers".into(), None, READERS, StatusCode::OK),
            case(Method::GET, "/api/v1/customers?q=target&include_archived=true".into(), None, READERS, StatusCode::OK),
            case(Method::GET, format!("/api/v1/customers/{id}"), None, READERS, StatusCode::OK),
            case(
                Method::POST,
                "/api/v1/customers".into(),
                Some(json!({ "kind": "person", "name": format!("New by {name}"), "sites": [{ "address": "New 1" }] })),
                WRITERS,
                StatusCode::CREATED,
            ),
            case(
                Method::PATCH,
                format!("/api/v1/customers/{id}"),
                Some(json!({ "notes": format!("Noted by {name}") })),
                WRITERS,
                StatusCode::OK,
            ),
            case(Method::POST, format!("/api/v1/customers/{id}/archive"), Some(json!({})), WRITERS, StatusCode::OK),
            case(Method::POST, format!("/api/v1/customers/{id}/restore"), Some(json!({})), WRITERS, StatusCode::OK),
            case(
                Method::POST,
                format!("/api/v1/customers/{id}/sites"),
                Some(json!({ "address": format!("Site by {name}") })),
                WRITERS,
                StatusCode::CREATED,
            ),
            case(
                Method::PATCH,
                format!("/api/v1/customers/{id}/sites/{site}"),
                Some(json!({ "access_notes": format!("Gate code from {name}") })),
                WRITERS,
                StatusCode::OK,
            ),
            // Invalid bodies: a role without the right gets 403, never a validation answer.
            case(
                Method::POST,
                "/api/v1/customers".into(),
                Some(json!({ "kind": "person", "name": "", "phones": ["1"] })),
                WRITERS,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            case(
                Method::PATCH,
                format!("/api/v1/customers/{id}"),
                Some(json!({ "email": "bad" })),
                WRITERS,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            case(
                Method::POST,
                format!("/api/v1/customers/{id}/sites"),
                Some(json!({ "address": "", "latitude": 500.0 })),
                WRITERS,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            case(
                Method::PATCH,
                format!("/api/v1/customers/{id}/sites/{site}"),
                Some(json!({ "latitude": 1.0 })),
                WRITERS,
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        ]
    };
    let archive_site = format!("/api/v1/customers/{id}/sites/{site}/archive");
    let snapshot = ["/api/v1/customers?include_archived=true&limit=200".to_owned()];
    let before = read_all(&app, &admin, &snapshot).await;

    // The refused roles go first, so an allowed role's changes cannot hide a refused one that went through.
    for (role, name, token) in &roles {
        if *role == Role::Dispatcher {
            assert_eq!(read_all(&app, &admin, &snapshot).await, before, "requests refused with 403 changed nothing");
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
        let archived = app.post(&archive_site, Some(token), json!({})).await;
        let expected = if WRITERS.contains(role) { StatusCode::OK } else { StatusCode::FORBIDDEN };
        assert_eq!(archived.status, expected, "{name}: POST {archive_site}: {:?}", archived.body);
    }

    // What the allowed roles did is there.
    let names: Vec<String> = app.get("/api/v1/customers?q=new%20by", Some(&admin)).await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["New by dispatcher", "New by admin"]);
    let now = app.get(&format!("/api/v1/customers/{id}"), Some(&admin)).await;
    assert_eq!(now.body["notes"], "Noted by admin");
    assert_eq!(now.body["archived_at"], Value::Null);
    let sites: Vec<&str> =
        now.body["sites"].as_array().unwrap().iter().map(|s| s["address"].as_str().unwrap()).collect();
    assert_eq!(sites, ["Target 1", "Site by dispatcher", "Site by admin"]);
    assert_eq!(now.body["sites"][0]["access_notes"], "Gate code from admin");
    assert!(now.body["sites"][0]["archived_at"].is_string());
}
