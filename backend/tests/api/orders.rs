//! Orders: numbering, the lifecycle through the API, concurrency, technician scope and isolation.

use crate::support::shop::Shop;
use axum::http::{Method, StatusCode};
use domain::Role;
use domain::orders::{OrderAction, OrderState, OrderStatus, Performer, allowed_actions, transition};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sqlx::PgPool;

/// `complete` needs a work report; this service type asks for no checklist and no photos.
fn report() -> Value {
    json!({ "report": { "summary": "Fixed", "labour_minutes": 30 } })
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn orders_get_numbers_defaults_and_a_created_event(db: PgPool) {
    let shop = Shop::open(db, true).await;
    let first = shop.new_order("Washer leaks").await;
    let second = shop.new_order("Washer does not spin").await;
    let year = chrono::Utc::now().format("%Y").to_string();
    assert_eq!(first["number"], format!("{year}-000001"));
    assert_eq!(second["number"], format!("{year}-000002"));
    assert_eq!(first["status"], "new");
    assert_eq!(first["priority"], "normal");
    assert_eq!(first["source"], "api");
    assert_eq!(first["estimated_cost"], json!({ "amount_minor": 350000, "currency": "RUB" }));
    assert_eq!(first["estimated_duration_minutes"], 90);
    assert_eq!(first["approval_required"], true);
    assert_eq!(first["sla"], "on_track");
    let created = chrono::DateTime::parse_from_rfc3339(first["created_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(first["sla_due_at"].as_str().unwrap()).unwrap();
    assert!((due - created - chrono::Duration::minutes(60)).num_seconds().abs() <= 2, "{created} {due}");
    assert_eq!(first["allowed_actions"], json!(["assign", "cancel"]), "what a dispatcher may do to a new order");

    let history =
        shop.app.get(&format!("/api/v1/orders/{}/history", first["id"].as_str().unwrap()), Some(&shop.admin)).await;
    assert_eq!(history.status, StatusCode::OK);
    let kinds: Vec<&str> =
        history.body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created"]);
    assert_eq!(history.body["items"][0]["channel"], "api");

    let bad = shop
        .app
        .post(
            "/api/v1/orders",
            Some(&shop.dispatcher),
            json!({ "customer_id": shop.customer_id, "site_id": uuid::Uuid::now_v7(), "service_type_id": shop.service_type_id,
                    "title": "x" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["error"]["details"]["fields"]["site_id"][0]["code"], "unknown_site");
    let window = shop
        .app
        .post(
            "/api/v1/orders",
            Some(&shop.dispatcher),
            json!({ "customer_id": shop.customer_id, "site_id": shop.site_id, "service_type_id": shop.service_type_id,
                    "title": " ", "scheduled_start": "2026-12-01T10:00:00Z", "scheduled_end": "2026-12-01T09:00:00Z" }),
        )
        .await;
    let fields: Vec<&String> = window.body["error"]["details"]["fields"].as_object().unwrap().keys().collect();
    assert_eq!(fields, ["scheduled_end", "title"]);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_whole_lifecycle_through_the_api(db: PgPool) {
    let shop = Shop::open(db, true).await;
    let order = shop.new_order("Washer leaks").await;
    let tech = json!({ "technician_id": shop.tech_a_id });
    let assigned = shop.act_ok(&shop.dispatcher, &order, "assign", tech).await;
    assert_eq!(assigned["status"], "assigned");
    assert_eq!(assigned["technician_id"], shop.tech_a_id.as_str());
    assert!(assigned["milestones"]["assigned_at"].is_string());

    // The technician now sees it, with their own buttons.
    let seen = shop.app.get(&format!("/api/v1/orders/{}", order["id"].as_str().unwrap()), Some(&shop.tech_a)).await;
    assert_eq!(seen.body["allowed_actions"], json!(["accept", "decline"]));

    let steps = [
        (&shop.tech_a, "accept", json!({}), "accepted", "accepted_at"),
        (&shop.tech_a, "depart", json!({}), "en_route", "en_route_at"),
        (&shop.tech_a, "start", json!({}), "in_progress", "started_at"),
        (&shop.tech_a, "hold", json!({ "reason": "waiting for a part" }), "on_hold", "started_at"),
        (&shop.dispatcher, "resume", json!({}), "in_progress", "started_at"),
        (&shop.tech_a, "complete", report(), "completed", "completed_at"),
        (&shop.dispatcher, "reject", json!({ "comment": "the door seal still drips" }), "in_progress", "started_at"),
        (&shop.tech_a, "complete", report(), "completed", "completed_at"),
        (&shop.admin, "approve", json!({}), "closed", "closed_at"),
    ];
    let first_version = assigned["version"].as_i64().unwrap();
    for (step, (token, action, body, status, milestone)) in (1..).zip(steps) {
        let after = shop.act_ok(token, &order, action, body).await;
        assert_eq!(after["status"], status, "{action}");
        assert!(after["milestones"][milestone].is_string(), "{action} stamps {milestone}");
        assert_eq!(after["version"].as_i64().unwrap(), first_version + step, "every change bumps the version");
    }
    let closed = shop.act(&shop.dispatcher, &order, "cancel", json!({ "reason": "too late" })).await;
    assert_eq!(closed.status, StatusCode::CONFLICT);
    assert_eq!(closed.code(), "order_invalid_transition");
    assert_eq!(closed.body["error"]["details"], json!({ "current_status": "closed", "allowed_actions": [] }));

    let history =
        shop.app.get(&format!("/api/v1/orders/{}/history", order["id"].as_str().unwrap()), Some(&shop.tech_a)).await;
    let items = history.body["items"].as_array().unwrap();
    let kinds: Vec<&str> = items.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "created", "assign", "accept", "depart", "start", "hold", "resume", "complete", "reject", "complete",
            "approve"
        ]
    );
    assert_eq!(items[5]["payload"]["reason"], "waiting for a part");
    assert_eq!(items[8]["payload"]["reason"], "the door seal still drips");
    assert_eq!(items[1]["payload"]["technician_id"], shop.tech_a_id.as_str());
    assert_eq!(items[2]["actor_user_id"], shop.tech_a_id.as_str());
    assert_eq!(
        items[10]["payload"],
        json!({ "from": "completed", "to": "closed", "reason": null,
        "technician_id": null, "previous_technician_id": null })
    );
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn without_approval_complete_closes_and_decline_returns_to_new(db: PgPool) {
    let shop = Shop::open(db, false).await;
    let order = shop.new_order("Washer leaks").await;
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    let no_reason = shop.act(&shop.tech_a, &order, "decline", json!({})).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_reason.body["error"]["details"]["fields"]["reason"][0]["code"], "required");
    let declined = shop.act_ok(&shop.tech_a, &order, "decline", json!({ "reason": "not my area" })).await;
    assert_eq!(declined["status"], "new");
    assert_eq!(declined["technician_id"], Value::Null);
    // Declined, it is no longer theirs.
    let gone = shop.app.get(&format!("/api/v1/orders/{}", order["id"].as_str().unwrap()), Some(&shop.tech_a)).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);

    for bad in [json!({}), json!({ "technician_id": uuid::Uuid::now_v7() })] {
        let refused = shop.act(&shop.dispatcher, &order, "assign", bad).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", refused.body);
    }
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_b_id })).await;
    for action in ["accept", "start"] {
        shop.act_ok(&shop.tech_b, &order, action, json!({})).await;
    }
    shop.act_ok(&shop.tech_b, &order, "complete", report()).await;
    let done = shop.app.get(&format!("/api/v1/orders/{}", order["id"].as_str().unwrap()), Some(&shop.admin)).await;
    assert_eq!(done.body["status"], "closed");
    assert!(done.body["milestones"]["completed_at"].is_string() && done.body["milestones"]["closed_at"].is_string());
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn refused_actions_name_the_status_and_the_callers_options(db: PgPool) {
    let shop = Shop::open(db, true).await;
    let order = shop.new_order("Washer leaks").await;
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    let refused = shop.act(&shop.dispatcher, &order, "accept", json!({})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "order_invalid_transition");
    assert_eq!(
        refused.body["error"]["details"],
        json!({ "current_status": "assigned", "allowed_actions": ["cancel", "reassign"] })
    );
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("assigned"));
    let early = shop.act(&shop.tech_a, &order, "complete", json!({})).await;
    assert_eq!(
        early.body["error"]["details"],
        json!({ "current_status": "assigned", "allowed_actions": ["accept", "decline"] })
    );
    // Managers read but never act.
    let manager = shop.act(&shop.manager, &order, "cancel", json!({ "reason": "x" })).await;
    assert_eq!((manager.status, manager.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let unknown = shop.act(&shop.dispatcher, &order, "teleport", json!({})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    let after = shop.app.get(&format!("/api/v1/orders/{}", order["id"].as_str().unwrap()), Some(&shop.admin)).await;
    assert_eq!(
        (after.body["status"].clone(), after.body["version"].clone()),
        (json!("assigned"), json!(2)),
        "nothing changed"
    );
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn of_two_concurrent_actions_exactly_one_wins(db: PgPool) {
    let shop = Shop::open(db, true).await;
    for round in 0..5 {
        let order = shop.new_order(&format!("Race {round}")).await;
        let (a, b) = tokio::join!(
            shop.act(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })),
            shop.act(&shop.admin, &order, "assign", json!({ "technician_id": shop.tech_b_id })),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "round {round}: {:?} {:?}", a.body, b.body);
        let history =
            shop.app.get(&format!("/api/v1/orders/{}/history", order["id"].as_str().unwrap()), Some(&shop.admin)).await;
        assert_eq!(history.body["items"].as_array().unwrap().len(), 2, "one created, one assign");
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_stale_edit_gets_409_and_never_overwrites(db: PgPool) {
    let shop = Shop::open(db, true).await;
    let order = shop.new_order("Washer leaks").await;
    let path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    let (a, b) = tokio::join!(
        shop.app.patch(&path, Some(&shop.dispatcher), json!({ "version": 1, "title": "From the dispatcher" })),
        shop.app.patch(&path, Some(&shop.admin), json!({ "version": 1, "title": "From the admin" })),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let (winner, loser) = if a.status == StatusCode::OK { (a, b) } else { (b, a) };
    assert_eq!(loser.code(), "version_conflict");
    let now = shop.app.get(&path, Some(&shop.admin)).await;
    assert_eq!(now.body["title"], winner.body["title"]);
    assert_eq!(now.body["version"], 2);

    let fresh = shop
        .app
        .patch(&path, Some(&shop.dispatcher), json!({ "version": 2, "priority": "urgent", "scheduled_start": "2026-12-01T09:00:00Z", "scheduled_end": "2026-12-01T11:00:00Z" }))
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{:?}", fresh.body);
    assert_eq!(fresh.body["priority"], "urgent");
    assert_eq!(fresh.body["scheduled_start"], "2026-12-01T09:00:00Z");
    let half = shop.app.patch(&path, Some(&shop.dispatcher), json!({ "version": 3, "scheduled_start": null })).await;
    assert_eq!(half.status, StatusCode::UNPROCESSABLE_ENTITY);
    let tech = shop.app.patch(&path, Some(&shop.tech_a), json!({ "version": 3, "title": "mine" })).await;
    assert_eq!(tech.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn technicians_see_only_their_orders_and_other_tenants_nothing(db: PgPool) {
    let shop = Shop::open(db, true).await;
    let mine = shop.new_order("Tech A's job").await;
    let other = shop.new_order("Nobody's job yet").await;
    shop.act_ok(&shop.dispatcher, &mine, "assign", json!({ "technician_id": shop.tech_a_id })).await;

    let list = shop.app.get("/api/v1/orders", Some(&shop.tech_a)).await;
    let titles: Vec<&str> =
        list.body["items"].as_array().unwrap().iter().map(|o| o["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Tech A's job"]);
    let asked = shop.app.get(&format!("/api/v1/orders?technician_id={}", shop.tech_b_id), Some(&shop.tech_a)).await;
    assert_eq!(asked.body["items"], json!([]), "asking for another technician's list shows nothing");
    assert_eq!(shop.app.get("/api/v1/orders", Some(&shop.tech_b)).await.body["items"], json!([]));

    // Technician B against A's order, and a stranger organization's admin against both.
    let stranger_org = shop.app.with_org("Bolt Services").await;
    shop.app.with_user(stranger_org, Role::Admin, "admin@bolt.test").await;
    let stranger = shop.app.token_for("admin@bolt.test").await;
    for (who, token) in [("technician B", &shop.tech_b), ("another organization", &stranger)] {
        for order in [&mine, &other] {
            let id = order["id"].as_str().unwrap();
            let cases = [
                (Method::GET, format!("/api/v1/orders/{id}"), None),
                (Method::PATCH, format!("/api/v1/orders/{id}"), Some(json!({ "version": 1, "title": "hijacked" }))),
                (Method::GET, format!("/api/v1/orders/{id}/history"), None),
                (Method::POST, format!("/api/v1/orders/{id}/actions/accept"), Some(json!({}))),
                (Method::POST, format!("/api/v1/orders/{id}/actions/cancel"), Some(json!({ "reason": "x" }))),
            ];
            for (method, path, body) in cases {
                let response = shop.app.request(method.clone(), &path, Some(token), body).await;
                let expected = if who == "technician B" && method == Method::PATCH {
                    StatusCode::FORBIDDEN // technicians may not edit fields at all
                } else {
                    StatusCode::NOT_FOUND
                };
                assert_eq!(response.status, expected, "{who}: {method} {path}: {:?}", response.body);
            }
        }
    }
    assert_eq!(shop.app.get("/api/v1/orders", Some(&stranger)).await.body["items"], json!([]));
    let untouched = shop.app.get(&format!("/api/v1/orders/{}", mine["id"].as_str().unwrap()), Some(&shop.admin)).await;
    assert_eq!(untouched.body["title"], "Tech A's job");
    assert_eq!(untouched.body["status"], "assigned");
    assert_eq!(untouched.body["version"], 2);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn lists_filter_and_page_newest_first(db: PgPool) {
    let shop = Shop::open(db, true).await;
    let mut ids = Vec::new();
    for n in 0..7 {
        ids.push(shop.new_order(&format!("Job {n}")).await["id"].as_str().unwrap().to_owned());
    }
    let urgent = shop.new_order("Burst pipe under the washer").await;
    let path = format!("/api/v1/orders/{}", urgent["id"].as_str().unwrap());
    shop.app.patch(&path, Some(&shop.dispatcher), json!({ "version": 1, "priority": "urgent" })).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("/api/v1/orders?limit=3&cursor={c}"),
            None => "/api/v1/orders?limit=3".to_owned(),
        };
        let page = shop.app.get(&url, Some(&shop.dispatcher)).await;
        seen.extend(page.body["items"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_owned()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let mut expected: Vec<String> = ids.clone();
    expected.push(urgent["id"].as_str().unwrap().to_owned());
    expected.reverse();
    assert_eq!(seen, expected, "every order once, newest first");

    let found = shop.app.get("/api/v1/orders?q=burst%20pipe", Some(&shop.dispatcher)).await;
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    let by_priority = shop.app.get("/api/v1/orders?priority=urgent&status=new", Some(&shop.dispatcher)).await;
    assert_eq!(by_priority.body["items"][0]["id"], urgent["id"]);
    assert_eq!(by_priority.body["items"].as_array().unwrap().len(), 1);
    let none_overdue = shop.app.get("/api/v1/orders?overdue=true", Some(&shop.dispatcher)).await;
    assert_eq!(none_overdue.body["items"], json!([]));
    let bad = shop.app.get("/api/v1/orders?status=lost", Some(&shop.dispatcher)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

/// Random sequences of actions by random people: the service must agree with the domain function
/// on every step, and no step may leave the table.
#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_service_agrees_with_the_state_machine_on_random_walks(db: PgPool) {
    let shop = Shop::open(db, true).await;
    let people = [
        (Some(Role::Admin), &shop.admin, None),
        (Some(Role::Dispatcher), &shop.dispatcher, None),
        (Some(Role::Manager), &shop.manager, None),
        (Some(Role::Technician), &shop.tech_a, Some(&shop.tech_a_id)),
        (Some(Role::Technician), &shop.tech_b, Some(&shop.tech_b_id)),
    ];
    let mut rng = StdRng::seed_from_u64(20261121);
    let (mut moved_count, mut refused_count) = (0, 0);
    for walk in 0..8 {
        let order = shop.new_order(&format!("Walk {walk}")).await;
        let id = order["id"].as_str().unwrap().to_owned();
        let mut state = OrderState { status: OrderStatus::New, held_from: None, approval_required: true };
        let mut assigned: Option<String> = None;
        for _ in 0..30 {
            let (role, token, own_id) = people[rng.random_range(0..people.len())];
            let is_assigned = own_id.is_some() && own_id.map(String::as_str) == assigned.as_deref();
            let performer = Performer::of(role, is_assigned);
            // Mostly a move the machine allows, so walks get deep; otherwise anything at all.
            let allowed = allowed_actions(&state, performer);
            let action = if !allowed.is_empty() && rng.random_bool(0.7) {
                allowed[rng.random_range(0..allowed.len())]
            } else {
                OrderAction::ALL[rng.random_range(0..OrderAction::ALL.len())]
            };
            let target = [&shop.tech_a_id, &shop.tech_b_id][rng.random_range(0..2)];
            let expected = transition(&state, action, performer);
            let body = json!({ "reason": "because", "comment": "again", "technician_id": target,
                               "report": report()["report"] });
            let response = shop.act(token, &order, action.as_str(), body).await;
            let invisible = role == Some(Role::Technician) && !is_assigned;
            match expected {
                _ if invisible => assert_eq!(response.status, StatusCode::NOT_FOUND, "{action:?} on {id}"),
                _ if role == Some(Role::Manager) => assert_eq!(response.status, StatusCode::FORBIDDEN),
                Ok(moved) => {
                    moved_count += 1;
                    assert_eq!(
                        response.status,
                        StatusCode::OK,
                        "{action:?} by {role:?} in {:?}: {:?}",
                        state.status,
                        response.body
                    );
                    assert_eq!(response.body["status"], json!(moved.to));
                    state = OrderState { status: moved.to, held_from: moved.held_from, ..state };
                    match action {
                        OrderAction::Assign | OrderAction::Reassign => assigned = Some(target.clone()),
                        OrderAction::Decline => assigned = None,
                        _ => {}
                    }
                }
                Err(refusal) => {
                    refused_count += 1;
                    assert_eq!(response.status, StatusCode::CONFLICT, "{action:?} by {role:?} in {:?}", state.status);
                    assert_eq!(response.body["error"]["details"]["current_status"], json!(refusal.current));
                    assert_eq!(response.body["error"]["details"]["allowed_actions"], json!(refusal.allowed));
                }
            }
        }
        let stored = shop.app.get(&format!("/api/v1/orders/{id}"), Some(&shop.admin)).await;
        assert_eq!(stored.body["status"], json!(state.status), "walk {walk} ends where the machine says");
    }
    // The walks must exercise both outcomes, or they prove nothing.
    assert!(moved_count >= 10 && refused_count >= 10, "moved {moved_count}, refused {refused_count}");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn an_unknown_or_foreign_customer_is_named_as_the_customer(db: PgPool) {
    let shop = Shop::open(db, true).await;
    let stranger_org = shop.app.with_org("Bolt Services").await;
    shop.app.with_user(stranger_org, Role::Admin, "admin@bolt.test").await;
    let stranger = shop.app.token_for("admin@bolt.test").await;
    let foreign = shop
        .app
        .post(
            "/api/v1/customers",
            Some(&stranger),
            json!({ "kind": "person", "name": "Boris", "sites": [{ "address": "Moscow, Arbat 2" }] }),
        )
        .await;
    assert_eq!(foreign.status, StatusCode::CREATED, "{:?}", foreign.body);
    let foreign_customer = foreign.body["customer"]["id"].as_str().unwrap();
    let foreign_site = foreign.body["customer"]["sites"][0]["id"].as_str().unwrap();
    let create = |customer: &str, site: &str| json!({ "customer_id": customer, "site_id": site, "service_type_id": shop.service_type_id, "title": "x" });

    let unknown_id = uuid::Uuid::now_v7().to_string();
    let mut answers = Vec::new();
    for (customer, site) in [(unknown_id.as_str(), shop.site_id.as_str()), (foreign_customer, foreign_site)] {
        let response = shop.app.post("/api/v1/orders", Some(&shop.dispatcher), create(customer, site)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", response.body);
        let fields = response.body["error"]["details"]["fields"].clone();
        assert_eq!(fields.as_object().unwrap().keys().collect::<Vec<_>>(), ["customer_id"], "{fields}");
        assert_eq!(fields["customer_id"][0]["code"], "unknown_customer");
        answers.push(response.body);
    }
    assert_eq!(answers[0], answers[1], "another organization's customer is answered as an unknown one");

    // A known customer with a site that is not its own stays a site error.
    let wrong_site =
        shop.app.post("/api/v1/orders", Some(&shop.dispatcher), create(&shop.customer_id, foreign_site)).await;
    assert_eq!(wrong_site.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(wrong_site.body["error"]["details"]["fields"]["site_id"][0]["code"], "unknown_site");
    let list = shop.app.get("/api/v1/orders", Some(&shop.admin)).await;
    assert_eq!(list.body["items"], json!([]), "no refused request made an order");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_report_of_an_order_not_yet_completed_is_a_conflict_not_a_missing_order(db: PgPool) {
    let shop = Shop::open(db, true).await;
    let order = shop.new_order("Washer leaks").await;
    let path = format!("/api/v1/orders/{}/report", order["id"].as_str().unwrap());
    let new = shop.app.get(&path, Some(&shop.dispatcher)).await;
    assert_eq!((new.status, new.code()), (StatusCode::CONFLICT, "no_work_report"), "{:?}", new.body);
    assert_eq!(new.body["error"]["details"], json!({ "current_status": "new" }));

    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    shop.act_ok(&shop.tech_a, &order, "accept", json!({})).await;
    shop.act_ok(&shop.tech_a, &order, "start", json!({})).await;
    let started = shop.app.get(&path, Some(&shop.tech_a)).await;
    assert_eq!((started.status, started.code()), (StatusCode::CONFLICT, "no_work_report"));
    assert!(started.body["error"]["message"].as_str().unwrap().contains("in_progress"), "{:?}", started.body);

    // Whoever may not see the order still learns nothing about it.
    let stranger_org = shop.app.with_org("Bolt Services").await;
    shop.app.with_user(stranger_org, Role::Admin, "admin@bolt.test").await;
    let stranger = shop.app.token_for("admin@bolt.test").await;
    for token in [&shop.tech_b, &stranger] {
        let response = shop.app.get(&path, Some(token)).await;
        assert_eq!((response.status, response.code()), (StatusCode::NOT_FOUND, "not_found"));
    }

    shop.act_ok(&shop.tech_a, &order, "complete", report()).await;
    let filed = shop.app.get(&path, Some(&shop.tech_a)).await;
    assert_eq!(filed.status, StatusCode::OK, "{:?}", filed.body);
    assert_eq!(filed.body["summary"], "Fixed");
}

/// The contact of the shop's one customer and site, as the technician's views carry it.
fn shop_contact() -> Value {
    json!({ "customer_name": "Maria Ivanova", "phones": ["+79165550101"], "address": "Moscow, Tverskaya 1, apt 5" })
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_technician_gets_whom_to_call_for_their_own_orders_and_nobody_elses(db: PgPool) {
    let shop = Shop::open(db, true).await;
    let mine = shop.new_order("Tech A's job").await;
    let unassigned = shop.new_order("Nobody's job yet").await;
    assert_eq!(mine["contact"], shop_contact(), "a dispatcher sees it on the order they made");
    shop.act_ok(&shop.dispatcher, &mine, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    let now = chrono::Utc::now();
    let window = json!({ "technician_id": shop.tech_a_id, "force": true,
                         "start": now - chrono::Duration::minutes(10), "end": now + chrono::Duration::minutes(20) });
    let path = format!("/api/v1/orders/{}/booking", mine["id"].as_str().unwrap());
    let booked = shop.app.put(&path, Some(&shop.dispatcher), window).await;
    assert_eq!(booked.status, StatusCode::OK, "{:?}", booked.body);

    let detail = shop.app.get(&format!("/api/v1/orders/{}", mine["id"].as_str().unwrap()), Some(&shop.tech_a)).await;
    assert_eq!(detail.status, StatusCode::OK);
    assert_eq!(detail.body["contact"], shop_contact(), "name, phones and address; no email, notes or other sites");
    let list = shop.app.get("/api/v1/orders", Some(&shop.tech_a)).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["items"][0]["contact"], shop_contact());
    let today = shop.app.get("/api/v1/me/schedule?period=today", Some(&shop.tech_a)).await;
    assert_eq!(today.status, StatusCode::OK, "{:?}", today.body);
    let bookings = today.body["technicians"][0]["bookings"].as_array().unwrap();
    assert_eq!(bookings.len(), 1, "{bookings:?}");
    assert_eq!(bookings[0]["order_id"], mine["id"]);
    assert_eq!(bookings[0]["contact"], shop_contact());

    // Technician B: not their order, so neither the order nor its contact.
    let foreign = shop.app.get(&format!("/api/v1/orders/{}", mine["id"].as_str().unwrap()), Some(&shop.tech_b)).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert!(!foreign.body.to_string().contains("Maria"), "{:?}", foreign.body);
    let listed = shop.app.get("/api/v1/orders", Some(&shop.tech_b)).await;
    assert_eq!(listed.body["items"], json!([]));
    let lane = shop.app.get("/api/v1/me/schedule?period=today", Some(&shop.tech_b)).await;
    assert_eq!(lane.body["technicians"][0]["bookings"], json!([]));
    let unassigned =
        shop.app.get(&format!("/api/v1/orders/{}", unassigned["id"].as_str().unwrap()), Some(&shop.manager)).await;
    assert_eq!(unassigned.body["contact"], shop_contact(), "managers read customers");
}
