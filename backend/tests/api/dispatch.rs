//! Dispatch against real PostgreSQL: job offers raced by technicians, auto-dispatch after a
//! decline, offer expiry, recurring plans across DST, and iCalendar feeds.

use crate::support::shop::Shop;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use domain::Role;
use fieldflow::{offers, recurring};
use futures_util::future::join_all;
use icalendar::Component;
use serde_json::{Value, json};
use sqlx::PgPool;

fn all_week() -> Value {
    let day = json!([{ "start": "08:00", "end": "20:00" }]);
    json!({ "mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day })
}

async fn set_hours(shop: &Shop, technician: &str) {
    let path = format!("/api/v1/technicians/{technician}");
    let response = shop.app.patch(&path, Some(&shop.admin), json!({ "working_hours": all_week() })).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
}

/// Three more able technicians beside A and B; answers their tokens by id.
async fn crew(shop: &Shop) -> Vec<(String, String)> {
    let org = fieldflow::orgs::repo::find_by_name(&shop.app.state.db, &domain::OrgName::parse("Acme Repairs").unwrap())
        .await
        .unwrap()
        .unwrap();
    let mut crew = vec![(shop.tech_a_id.clone(), shop.tech_a.clone()), (shop.tech_b_id.clone(), shop.tech_b.clone())];
    for name in ["c", "d", "e"] {
        let email = format!("{name}@acme.test");
        let id = shop.app.with_technician(org, &email, &["washing_machines"], &["north"]).await.to_string();
        crew.push((id, shop.app.token_for(&email).await));
    }
    for (id, _) in &crew {
        set_hours(shop, id).await;
    }
    crew
}

fn order_path(order: &Value, rest: &str) -> String {
    format!("/api/v1/orders/{}{rest}", order["id"].as_str().unwrap())
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn five_technicians_accept_one_offer_at_once_and_exactly_one_gets_it(db: PgPool) {
    let shop = Shop::open(db, false).await;
    let crew = crew(&shop).await;
    let order = shop.new_order("Urgent washer").await;
    let offered = shop.app.post(&order_path(&order, "/offers"), Some(&shop.dispatcher), json!({ "count": 5 })).await;
    assert_eq!(offered.status, StatusCode::CREATED, "{:?}", offered.body);
    let offers = offered.body.as_array().unwrap();
    assert_eq!(offers.len(), 5);

    // Each technician finds their own offer and they all accept at once.
    let mut mine = Vec::new();
    for (id, token) in &crew {
        let listed = shop.app.get("/api/v1/me/offers?status=pending", Some(token)).await;
        let items = listed.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{id}: {:?}", listed.body);
        assert_eq!(items[0]["technician_id"], id.as_str());
        mine.push((id.clone(), token.clone(), items[0]["id"].as_str().unwrap().to_owned()));
    }
    let app = &shop.app;
    let accepts = mine.iter().map(|(_, token, offer)| {
        let path = format!("/api/v1/offers/{offer}/accept");
        async move { app.post(&path, Some(token), json!({})).await }
    });
    let answers = join_all(accepts).await;
    let winners: Vec<usize> = (0..answers.len()).filter(|i| answers[*i].status == StatusCode::OK).collect();
    assert_eq!(winners.len(), 1, "{:?}", answers.iter().map(|a| (a.status, a.body.clone())).collect::<Vec<_>>());
    for (i, answer) in answers.iter().enumerate().filter(|(i, _)| *i != winners[0]) {
        assert_eq!(answer.status, StatusCode::CONFLICT, "{i}: {:?}", answer.body);
        assert_eq!(answer.code(), "offer_closed");
    }
    let winner = &mine[winners[0]].0;
    let taken = shop.app.get(&order_path(&order, ""), Some(&shop.dispatcher)).await;
    assert_eq!(taken.body["status"], "accepted");
    assert_eq!(taken.body["technician_id"], winner.as_str());
    let all = shop.app.get(&order_path(&order, "/offers"), Some(&shop.dispatcher)).await;
    let mut statuses: Vec<&str> =
        all.body["items"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, ["accepted", "withdrawn", "withdrawn", "withdrawn", "withdrawn"]);
    // A loser cannot see the order; the winner can.
    let loser = mine.iter().find(|(id, _, _)| id != winner).unwrap();
    assert_eq!(shop.app.get(&order_path(&order, ""), Some(&loser.1)).await.status, StatusCode::NOT_FOUND);
    // Someone else's offer is not yours to accept.
    let winner_offer = format!("/api/v1/offers/{}/decline", mine[winners[0]].2);
    assert_eq!(shop.app.post(&winner_offer, Some(&loser.1), json!({})).await.status, StatusCode::NOT_FOUND);
    assert_eq!(shop.app.post(&winner_offer, Some(&shop.dispatcher), json!({})).await.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn with_auto_dispatch_a_declined_order_goes_to_the_next_candidates(db: PgPool) {
    let shop = Shop::open(db, false).await;
    let crew = crew(&shop).await;
    let settings = json!({ "auto_dispatch": true, "offer_fanout": 2 });
    assert_eq!(shop.app.patch("/api/v1/org", Some(&shop.admin), settings).await.status, StatusCode::OK);
    let order = shop.new_order("Drum noise").await;
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    shop.act_ok(&shop.tech_a, &order, "decline", json!({ "reason": "too far" })).await;
    let offers = shop.app.get(&order_path(&order, "/offers"), Some(&shop.dispatcher)).await;
    let items = offers.body["items"].as_array().unwrap();
    let pending: Vec<&str> =
        items.iter().filter(|o| o["status"] == "pending").map(|o| o["technician_id"].as_str().unwrap()).collect();
    assert_eq!(pending.len(), 2, "{items:?}");
    assert!(!pending.contains(&shop.tech_a_id.as_str()), "the technician who declined is not asked again");
    // Both decline: the next two are asked; when nobody is left the order waits for a dispatcher.
    for (id, token) in &crew {
        if pending.contains(&id.as_str()) {
            let mine = shop.app.get("/api/v1/me/offers?status=pending", Some(token)).await;
            let offer = mine.body["items"][0]["id"].as_str().unwrap().to_owned();
            let declined = shop.app.post(&format!("/api/v1/offers/{offer}/decline"), Some(token), json!({})).await;
            assert_eq!(declined.status, StatusCode::OK, "{:?}", declined.body);
            assert_eq!(declined.body["status"], "declined");
        }
    }
    let again = shop.app.get(&order_path(&order, "/offers?status=pending"), Some(&shop.dispatcher)).await;
    assert_eq!(again.body["items"].as_array().unwrap().len(), 2);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn offers_nobody_takes_expire_and_alert_the_dispatcher_once(db: PgPool) {
    let shop = Shop::open(db, false).await;
    crew(&shop).await;
    let order = shop.new_order("Nobody wants it").await;
    let offered = shop.app.post(&order_path(&order, "/offers"), Some(&shop.dispatcher), json!({})).await;
    assert_eq!(offered.status, StatusCode::CREATED, "{:?}", offered.body);
    let expires_at: DateTime<Utc> = offered.body[0]["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(offers::service::expire(&shop.app.state, expires_at - chrono::Duration::seconds(1)).await.unwrap(), 0);
    assert_eq!(offers::service::expire(&shop.app.state, expires_at).await.unwrap(), 1);
    assert_eq!(offers::service::expire(&shop.app.state, expires_at).await.unwrap(), 0);
    let history = shop.app.get(&order_path(&order, "/history"), Some(&shop.dispatcher)).await;
    let kinds: Vec<&str> =
        history.body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "offered", "offers_expired"]);
    // An offer to an order already taken is refused with the lifecycle's answer.
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_b_id })).await;
    let late = shop.app.post(&order_path(&order, "/offers"), Some(&shop.dispatcher), json!({})).await;
    assert_eq!(late.code(), "order_invalid_transition");
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn recurring_plans_keep_local_time_across_dst_and_never_generate_twice(db: PgPool) {
    let shop = Shop::open(db, false).await;
    set_hours(&shop, &shop.tech_a_id).await;
    assert_eq!(
        shop.app.patch("/api/v1/me", Some(&shop.tech_a), json!({ "time_zone": "Europe/Berlin" })).await.status,
        StatusCode::OK
    );
    let plan = shop
        .app
        .post(
            "/api/v1/recurring-plans",
            Some(&shop.dispatcher),
            json!({ "customer_id": shop.customer_id, "site_id": shop.site_id, "service_type_id": shop.service_type_id,
                    "technician_id": shop.tech_a_id, "title": "Quarterly boiler service", "rrule": "FREQ=WEEKLY;BYDAY=MO",
                    "starts_local": "2026-03-16T09:00:00", "time_zone": "Europe/Berlin" }),
        )
        .await;
    assert_eq!(plan.status, StatusCode::CREATED, "{:?}", plan.body);
    assert_eq!(plan.body["duration_minutes"], 90, "the service type's default duration");
    let org = shop.app.state.db.clone();
    let org_id: uuid::Uuid = sqlx::query_scalar("SELECT org_id FROM recurring_plans").fetch_one(&org).await.unwrap();
    let now: DateTime<Utc> = "2026-03-20T00:00:00Z".parse().unwrap();
    let first = recurring::service::generate(&shop.app.state, Some(domain::OrgId(org_id)), now).await.unwrap();
    assert_eq!((first.plans, first.orders_created, first.left_unassigned), (1, 2, 0), "{first:?}");
    let second = recurring::service::generate(&shop.app.state, Some(domain::OrgId(org_id)), now).await.unwrap();
    assert_eq!(second.orders_created, 0, "{second:?}");
    let orders = shop.app.get("/api/v1/orders", Some(&shop.dispatcher)).await;
    let mut windows: Vec<(&str, &str, &str)> = orders.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["scheduled_start"].as_str().unwrap(), o["status"].as_str().unwrap(), o["source"].as_str().unwrap()))
        .collect();
    windows.sort_unstable();
    // 09:00 Berlin: 08:00Z in winter time, 07:00Z once summer time begins on 29 March.
    assert_eq!(
        windows,
        [("2026-03-23T08:00:00Z", "assigned", "recurring"), ("2026-03-30T07:00:00Z", "assigned", "recurring")]
    );

    let bad = shop
        .app
        .post(
            "/api/v1/recurring-plans",
            Some(&shop.dispatcher),
            json!({ "customer_id": shop.customer_id, "site_id": shop.site_id, "service_type_id": shop.service_type_id,
                    "title": "Broken", "rrule": "FREQ=HOURLY", "starts_local": "2026-03-16T09:00:00", "time_zone": "Mars/Olympus" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body["error"]["details"]["fields"]["time_zone"].is_array(), "{:?}", bad.body);
    assert_eq!(
        shop.app.get("/api/v1/recurring-plans", Some(&shop.dispatcher)).await.body["items"].as_array().unwrap().len(),
        1
    );
    assert_eq!(shop.app.get("/api/v1/recurring-plans", Some(&shop.tech_a)).await.status, StatusCode::FORBIDDEN);
}

fn uids(ics: &str) -> Vec<String> {
    let calendar: icalendar::Calendar = ics.parse().unwrap();
    let mut uids: Vec<String> = calendar.events().map(|e| e.get_uid().unwrap().to_owned()).collect();
    uids.sort_unstable();
    uids
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_ical_feed_holds_only_the_technicians_bookings_and_can_be_revoked(db: PgPool) {
    let shop = Shop::open(db, false).await;
    set_hours(&shop, &shop.tech_a_id).await;
    set_hours(&shop, &shop.tech_b_id).await;
    let soon = Utc::now() + chrono::Duration::days(2);
    let day = soon.format("%Y-%m-%d");
    let mut orders = Vec::new();
    for (hour, technician) in [(6, &shop.tech_a_id), (9, &shop.tech_a_id), (6, &shop.tech_b_id)] {
        let order = shop.new_order("Feed job").await;
        let body = json!({ "technician_id": technician, "start": format!("{day}T{hour:02}:00:00Z"), "end": format!("{day}T{:02}:00:00Z", hour + 1) });
        let booked = shop.app.put(&order_path(&order, "/booking"), Some(&shop.dispatcher), body).await;
        assert_eq!(booked.status, StatusCode::OK, "{:?}", booked.body);
        orders.push(order);
    }
    let feed = shop
        .app
        .post(&format!("/api/v1/technicians/{}/calendar-feed", shop.tech_a_id), Some(&shop.tech_a), json!({}))
        .await;
    assert_eq!(feed.status, StatusCode::OK, "{:?}", feed.body);
    let url = feed.body["url"].as_str().unwrap();
    let path = &url[url.find("/calendar/").unwrap()..];
    let ics = shop.app.get(path, None).await;
    assert_eq!(ics.status, StatusCode::OK);
    assert_eq!(ics.headers["content-type"], "text/calendar; charset=utf-8");
    let mut expected: Vec<String> =
        orders[..2].iter().map(|o| format!("{}@fieldflow", o["id"].as_str().unwrap())).collect();
    expected.sort_unstable();
    assert_eq!(uids(ics.body.as_str().unwrap()), expected);
    let calendar: icalendar::Calendar = ics.body.as_str().unwrap().parse().unwrap();
    let first = calendar.events().find(|e| e.get_uid() == Some(expected[0].as_str())).unwrap();
    assert!(first.get_start().is_some() && first.get_summary().unwrap().contains("Feed job"));

    // B may not manage A's feed; a new URL revokes the old one; revoking ends it.
    let path_b = format!("/api/v1/technicians/{}/calendar-feed", shop.tech_a_id);
    assert_eq!(shop.app.post(&path_b, Some(&shop.tech_b), json!({})).await.status, StatusCode::FORBIDDEN);
    let rotated = shop.app.post(&path_b, Some(&shop.dispatcher), json!({})).await;
    assert_eq!(shop.app.get(path, None).await.status, StatusCode::NOT_FOUND);
    let new_url = rotated.body["url"].as_str().unwrap();
    let new_path = &new_url[new_url.find("/calendar/").unwrap()..];
    assert_eq!(shop.app.get(new_path, None).await.status, StatusCode::OK);
    assert_eq!(shop.app.delete(&path_b, Some(&shop.tech_a)).await.status, StatusCode::NO_CONTENT);
    assert_eq!(shop.app.get(new_path, None).await.status, StatusCode::NOT_FOUND);

    // Another organization cannot mint a feed for A.
    let other = shop.app.with_org("Rival Repairs").await;
    shop.app.with_user(other, Role::Dispatcher, "disp@rival.test").await;
    let rival = shop.app.token_for("disp@rival.test").await;
    assert_eq!(shop.app.post(&path_b, Some(&rival), json!({})).await.status, StatusCode::NOT_FOUND);

    // One order as a file, for those who may see it.
    let single = shop.app.get(&order_path(&orders[0], "/calendar.ics"), Some(&shop.tech_a)).await;
    assert_eq!(single.status, StatusCode::OK);
    assert_eq!(
        uids(single.body.as_str().unwrap()),
        [expected.iter().find(|u| u.starts_with(orders[0]["id"].as_str().unwrap())).unwrap().clone()]
    );
    assert_eq!(
        shop.app.get(&order_path(&orders[0], "/calendar.ics"), Some(&shop.tech_b)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        shop.app.get(&order_path(&orders[0], "/calendar.ics"), Some(&rival)).await.status,
        StatusCode::NOT_FOUND
    );
}
