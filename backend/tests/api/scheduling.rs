//! Scheduling against real PostgreSQL: bookings that never overlap, working hours across DST,
//! time off and holidays, the calendar, free slots, suggestions and auto-assignment.

use crate::support::shop::Shop;
use axum::http::StatusCode;
use domain::Role;
use futures_util::future::join_all;
use serde_json::{Value, json};
use sqlx::PgPool;

/// Every day 08:00–20:00 in the technician's zone (Europe/Moscow unless changed).
fn all_week() -> Value {
    let day = json!([{ "start": "08:00", "end": "20:00" }]);
    json!({ "mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day })
}

fn weekdays_nine_to_six() -> Value {
    let day = json!([{ "start": "09:00", "end": "18:00" }]);
    json!({ "mon": day, "tue": day, "wed": day, "thu": day, "fri": day })
}

async fn set_hours(shop: &Shop, technician: &str, hours: Value) {
    let path = format!("/api/v1/technicians/{technician}");
    let response = shop.app.patch(&path, Some(&shop.admin), json!({ "working_hours": hours })).await;
    assert_eq!(response.status, StatusCode::OK, "{:?}", response.body);
}

async fn book(
    shop: &Shop,
    order: &Value,
    technician: &str,
    start: &str,
    end: &str,
    force: bool,
) -> crate::support::TestResponse {
    let path = format!("/api/v1/orders/{}/booking", order["id"].as_str().unwrap());
    let body = json!({ "technician_id": technician, "start": start, "end": end, "force": force });
    shop.app.put(&path, Some(&shop.dispatcher), body).await
}

/// A and B work weekdays 09:00–18:00 Moscow; A is busy 09:00–11:00 (06:00–08:00Z) on Tuesday
/// 2026-12-01 with the order returned.
async fn busy_morning(db: PgPool) -> (Shop, Value) {
    let shop = Shop::open(db, false).await;
    set_hours(&shop, &shop.tech_a_id, weekdays_nine_to_six()).await;
    set_hours(&shop, &shop.tech_b_id, weekdays_nine_to_six()).await;
    let busy = shop.new_order("Morning job").await;
    let booked = book(&shop, &busy, &shop.tech_a_id, "2026-12-01T06:00:00Z", "2026-12-01T08:00:00Z", false).await;
    assert_eq!(booked.status, StatusCode::OK, "{:?}", booked.body);
    (shop, busy)
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn twenty_concurrent_bookings_of_one_technician_leave_exactly_one(db: PgPool) {
    let shop = Shop::open(db, false).await;
    set_hours(&shop, &shop.tech_a_id, all_week()).await;
    let mut orders = Vec::new();
    for i in 0..20 {
        orders.push(shop.new_order(&format!("Job {i}")).await);
    }
    // Every window overlaps every other: starts 09:00–09:19Z, all end after 10:29Z.
    let shop = &shop;
    let attempts = orders.iter().enumerate().map(|(i, order)| {
        let start = format!("2026-12-01T09:{i:02}:00Z");
        let end = format!("2026-12-01T10:{:02}:00Z", 30 + i);
        let tech = shop.tech_a_id.clone();
        async move { book(shop, order, &tech, &start, &end, false).await }
    });
    let responses = join_all(attempts).await;
    let winners: Vec<&crate::support::TestResponse> = responses.iter().filter(|r| r.status == StatusCode::OK).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one booking wins: {:?}",
        responses.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let winner = &winners[0].body;
    for refused in responses.iter().filter(|r| r.status != StatusCode::OK) {
        assert_eq!(refused.status, StatusCode::CONFLICT, "{:?}", refused.body);
        assert_eq!(refused.code(), "booking_conflict");
        assert_eq!(refused.body["error"]["details"]["conflicting_order"]["number"], winner["number"]);
        assert_eq!(refused.body["error"]["details"]["conflicting_order"]["id"], winner["id"]);
    }
    // The losers changed nothing: still new, no technician, no window.
    let list = shop.app.get("/api/v1/orders?status=new", Some(&shop.dispatcher)).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 19);
    assert!(list.body["items"].as_array().unwrap().iter().all(|o| o["scheduled_start"].is_null()));
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_booking_outside_hours_in_time_off_or_on_a_holiday_needs_force_and_is_flagged(db: PgPool) {
    let shop = Shop::open(db, false).await;
    set_hours(&shop, &shop.tech_a_id, weekdays_nine_to_six()).await;
    let order = shop.new_order("Leaking washer").await;
    // Saturday 2026-12-05, 10:00 Moscow.
    let saturday = book(&shop, &order, &shop.tech_a_id, "2026-12-05T07:00:00Z", "2026-12-05T08:30:00Z", false).await;
    assert_eq!(saturday.status, StatusCode::CONFLICT, "{:?}", saturday.body);
    assert_eq!(saturday.code(), "technician_unavailable");
    assert_eq!(saturday.body["error"]["details"]["reasons"], json!(["outside working hours"]));
    let unchanged =
        shop.app.get(&format!("/api/v1/orders/{}", order["id"].as_str().unwrap()), Some(&shop.dispatcher)).await;
    assert_eq!(unchanged.body["status"], "new");
    assert!(unchanged.body["technician_id"].is_null());

    let forced = book(&shop, &order, &shop.tech_a_id, "2026-12-05T07:00:00Z", "2026-12-05T08:30:00Z", true).await;
    assert_eq!(forced.status, StatusCode::OK, "{:?}", forced.body);
    assert_eq!(forced.body["schedule_forced"], true);
    assert_eq!(forced.body["status"], "assigned");
    assert_eq!(forced.body["technician_id"], shop.tech_a_id.as_str());

    // Moving it into working hours clears the flag.
    let moved = book(&shop, &order, &shop.tech_a_id, "2026-12-07T07:00:00Z", "2026-12-07T08:30:00Z", false).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    assert_eq!(moved.body["schedule_forced"], false);
    let history = shop
        .app
        .get(&format!("/api/v1/orders/{}/history", order["id"].as_str().unwrap()), Some(&shop.dispatcher))
        .await;
    let kinds: Vec<&str> =
        history.body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "assign", "rescheduled"]);

    // Time off on Tuesday, a holiday on Wednesday.
    let time_off = shop
        .app
        .post(
            &format!("/api/v1/technicians/{}/time-off", shop.tech_a_id),
            Some(&shop.dispatcher),
            json!({ "kind": "sick", "starts_at": "2026-12-08T00:00:00Z", "ends_at": "2026-12-09T00:00:00Z" }),
        )
        .await;
    assert_eq!(time_off.status, StatusCode::CREATED, "{:?}", time_off.body);
    let holiday = shop
        .app
        .post("/api/v1/holidays", Some(&shop.admin), json!({ "day": "2026-12-09", "name": "Founders' day" }))
        .await;
    assert_eq!(holiday.status, StatusCode::CREATED, "{:?}", holiday.body);
    let second = shop.new_order("Noisy drum").await;
    let sick = book(&shop, &second, &shop.tech_a_id, "2026-12-08T07:00:00Z", "2026-12-08T08:00:00Z", false).await;
    assert_eq!(sick.code(), "technician_unavailable");
    assert!(
        sick.body["error"]["details"]["reasons"][0].as_str().unwrap().starts_with("time off (Sick)"),
        "{:?}",
        sick.body
    );
    let holiday_booking =
        book(&shop, &second, &shop.tech_a_id, "2026-12-09T07:00:00Z", "2026-12-09T08:00:00Z", false).await;
    assert_eq!(holiday_booking.code(), "technician_unavailable");
    assert_eq!(holiday_booking.body["error"]["details"]["reasons"], json!(["holiday 2026-12-09 (Founders' day)"]));
    // Moving the time off to Thursday frees Tuesday; deleting it frees Thursday.
    let time_off_path = format!("/api/v1/time-off/{}", time_off.body["id"].as_str().unwrap());
    let moved_off = shop
        .app
        .patch(
            &time_off_path,
            Some(&shop.dispatcher),
            json!({ "starts_at": "2026-12-10T00:00:00Z", "ends_at": "2026-12-11T00:00:00Z" }),
        )
        .await;
    assert_eq!(moved_off.status, StatusCode::OK, "{:?}", moved_off.body);
    assert_eq!(moved_off.body["kind"], "sick");
    let backwards =
        shop.app.patch(&time_off_path, Some(&shop.dispatcher), json!({ "ends_at": "2026-12-09T00:00:00Z" })).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    let thursday = shop.new_order("Thursday job").await;
    let away = book(&shop, &thursday, &shop.tech_a_id, "2026-12-10T07:00:00Z", "2026-12-10T08:00:00Z", false).await;
    assert_eq!(away.code(), "technician_unavailable");
    // Deleting the time off frees Tuesday again.
    let deleted = shop
        .app
        .delete(&format!("/api/v1/time-off/{}", time_off.body["id"].as_str().unwrap()), Some(&shop.dispatcher))
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let tuesday = book(&shop, &second, &shop.tech_a_id, "2026-12-08T07:00:00Z", "2026-12-08T08:00:00Z", false).await;
    assert_eq!(tuesday.status, StatusCode::OK, "{:?}", tuesday.body);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn bad_scheduling_input_is_refused_and_changes_nothing(db: PgPool) {
    let shop = Shop::open(db, false).await;
    let order = shop.new_order("Leaking washer").await;
    let backwards = book(&shop, &order, &shop.tech_a_id, "2026-12-05T09:00:00Z", "2026-12-05T08:00:00Z", false).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(backwards.body["error"]["details"]["fields"]["end"].is_array());
    let stranger = book(
        &shop,
        &order,
        "018f0000-0000-7000-8000-000000000000",
        "2026-12-05T08:00:00Z",
        "2026-12-05T09:00:00Z",
        true,
    )
    .await;
    assert_eq!(stranger.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stranger.body["error"]["details"]["fields"]["technician_id"].is_array());
    let path = format!("/api/v1/technicians/{}/time-off", shop.tech_a_id);
    let reversed = shop
        .app
        .post(
            &path,
            Some(&shop.dispatcher),
            json!({ "kind": "vacation", "starts_at": "2026-12-09T00:00:00Z", "ends_at": "2026-12-08T00:00:00Z" }),
        )
        .await;
    assert_eq!(reversed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown_kind = shop
        .app
        .post(
            &path,
            Some(&shop.dispatcher),
            json!({ "kind": "party", "starts_at": "2026-12-08T00:00:00Z", "ends_at": "2026-12-09T00:00:00Z" }),
        )
        .await;
    assert_eq!(unknown_kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    let listed = shop.app.get(&path, Some(&shop.dispatcher)).await;
    assert_eq!(listed.body["items"], json!([]));
    // A `to` before the default `from`, and years PostgreSQL's dates cannot hold (found by
    // Schemathesis as 500s).
    let inverted = shop.app.get(&format!("{path}?to=2000-01-01T00:00:00Z"), Some(&shop.dispatcher)).await;
    assert_eq!(inverted.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", inverted.body);
    assert_eq!(inverted.body["error"]["details"]["fields"]["to"][0]["code"], "before_start");
    for year in ["-46538", "1899", "2201", "99999"] {
        let holidays = shop.app.get(&format!("/api/v1/holidays?year={year}"), Some(&shop.dispatcher)).await;
        assert_eq!(holidays.status, StatusCode::UNPROCESSABLE_ENTITY, "{year}: {:?}", holidays.body);
        assert_eq!(holidays.body["error"]["details"]["fields"]["year"][0]["code"], "out_of_range");
    }
    assert_eq!(shop.app.get("/api/v1/holidays?year=2200", Some(&shop.dispatcher)).await.status, StatusCode::OK);
    let too_long = shop
        .app
        .get("/api/v1/schedule?from=2026-01-01T00:00:00Z&to=2026-06-01T00:00:00Z", Some(&shop.dispatcher))
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(too_long.body["error"]["details"]["fields"]["to"][0]["code"], "range_too_long");
    let duplicate_day = json!({ "day": "2026-12-31", "name": "New Year's Eve" });
    assert_eq!(
        shop.app.post("/api/v1/holidays", Some(&shop.admin), duplicate_day.clone()).await.status,
        StatusCode::CREATED
    );
    let again = shop.app.post("/api/v1/holidays", Some(&shop.admin), duplicate_day).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.body["error"]["details"]["fields"]["day"][0]["code"], "duplicate");
    // Moving another holiday onto that day is refused the same way; renaming it is fine.
    let other =
        shop.app.post("/api/v1/holidays", Some(&shop.admin), json!({ "day": "2026-12-30", "name": "Eve's eve" })).await;
    let other_path = format!("/api/v1/holidays/{}", other.body["id"].as_str().unwrap());
    let clash = shop.app.patch(&other_path, Some(&shop.admin), json!({ "day": "2026-12-31" })).await;
    assert_eq!(clash.body["error"]["details"]["fields"]["day"][0]["code"], "duplicate");
    let renamed = shop.app.patch(&other_path, Some(&shop.admin), json!({ "name": "Last working day" })).await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(
        (renamed.body["day"].as_str(), renamed.body["name"].as_str()),
        (Some("2026-12-30"), Some("Last working day"))
    );
    assert_eq!(
        shop.app.patch(&other_path, Some(&shop.tech_a), json!({ "name": "Mine" })).await.status,
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn working_hours_map_to_the_right_instants_on_both_dst_change_days(db: PgPool) {
    let shop = Shop::open(db, false).await;
    let day = json!([{ "start": "09:00", "end": "18:00" }]);
    let hours = json!({ "mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": day, "sun": day });
    set_hours(&shop, &shop.tech_a_id, hours).await;
    let moved = shop.app.patch("/api/v1/me", Some(&shop.tech_a), json!({ "time_zone": "Europe/Berlin" })).await;
    assert_eq!(moved.status, StatusCode::OK, "{:?}", moved.body);
    for (day, start, end) in [
        ("2026-03-29", "2026-03-29T07:00:00Z", "2026-03-29T16:00:00Z"),
        ("2026-10-25", "2026-10-25T08:00:00Z", "2026-10-25T17:00:00Z"),
        ("2026-12-01", "2026-12-01T08:00:00Z", "2026-12-01T17:00:00Z"),
    ] {
        let path =
            format!("/api/v1/schedule?from={day}T00:00:00Z&to={day}T23:59:00Z&technician_ids={}", shop.tech_a_id);
        let schedule = shop.app.get(&path, Some(&shop.dispatcher)).await;
        assert_eq!(schedule.status, StatusCode::OK, "{:?}", schedule.body);
        assert_eq!(schedule.body["technicians"][0]["time_zone"], "Europe/Berlin");
        assert_eq!(schedule.body["technicians"][0]["working"], json!([{ "start": start, "end": end }]), "{day}");
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn free_slots_are_ranked_and_honour_bookings_buffers_skills_and_zones(db: PgPool) {
    let (shop, _) = busy_morning(db).await;
    let search = "/api/v1/schedule/slots?duration_minutes=90&skills=washing_machines&from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z";
    let slots = shop.app.get(search, Some(&shop.dispatcher)).await;
    assert_eq!(slots.status, StatusCode::OK, "{:?}", slots.body);
    let found: Vec<(&str, &str, u64)> = slots
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (s["technician_id"].as_str().unwrap(), s["start"].as_str().unwrap(), s["jobs_that_day"].as_u64().unwrap())
        })
        .collect();
    // B is free from the start of the day; A only after the job and the 30-minute travel buffer.
    assert_eq!(
        found,
        [(shop.tech_b_id.as_str(), "2026-12-01T06:00:00Z", 0), (shop.tech_a_id.as_str(), "2026-12-01T08:30:00Z", 1)]
    );
    let north = shop.app.get(&format!("{search}&zone=north"), Some(&shop.dispatcher)).await;
    assert_eq!(north.body.as_array().unwrap().len(), 1);
    assert_eq!(north.body[0]["technician_id"], shop.tech_a_id.as_str());
    let unskilled = shop.app.get(&search.replace("washing_machines", "hvac"), Some(&shop.dispatcher)).await;
    assert_eq!(unskilled.body, json!([]));
    let as_technician = shop.app.get(search, Some(&shop.tech_a)).await;
    assert_eq!(as_technician.status, StatusCode::FORBIDDEN);
    let zero = shop.app.get(&search.replace("duration_minutes=90", "duration_minutes=0"), Some(&shop.dispatcher)).await;
    assert_eq!(zero.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn suggestions_explain_every_check_and_auto_assign_books_the_best(db: PgPool) {
    let (shop, busy) = busy_morning(db).await;
    let order = shop
        .app
        .post(
            "/api/v1/orders",
            Some(&shop.dispatcher),
            json!({ "customer_id": shop.customer_id, "site_id": shop.site_id, "service_type_id": shop.service_type_id,
                    "title": "Drum bearing", "scheduled_start": "2026-12-01T07:00:00Z", "scheduled_end": "2026-12-01T08:30:00Z" }),
        )
        .await
        .body;
    let path = format!("/api/v1/orders/{}/suggestions", order["id"].as_str().unwrap());
    let suggestions = shop.app.get(&path, Some(&shop.dispatcher)).await;
    assert_eq!(suggestions.status, StatusCode::OK, "{:?}", suggestions.body);
    let candidates = suggestions.body["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 2);
    assert_eq!(candidates[0]["technician_id"], shop.tech_b_id.as_str());
    assert_eq!(candidates[0]["eligible"], true);
    assert_eq!(candidates[1]["eligible"], false);
    let availability =
        candidates[1]["checks"].as_array().unwrap().iter().find(|c| c["check"] == "availability").unwrap();
    assert_eq!(availability["passed"], false);
    assert!(availability["reason"].as_str().unwrap().contains(busy["number"].as_str().unwrap()), "{availability:?}");
    let checks: Vec<&str> =
        candidates[0]["checks"].as_array().unwrap().iter().map(|c| c["check"].as_str().unwrap()).collect();
    assert_eq!(checks, ["skills", "zone", "capacity", "availability"]);

    let auto = shop.act(&shop.dispatcher, &order, "assign", json!({ "auto": true })).await;
    assert_eq!(auto.status, StatusCode::OK, "{:?}", auto.body);
    assert_eq!(auto.body["technician_id"], shop.tech_b_id.as_str());
    assert_eq!(auto.body["scheduled_start"], "2026-12-01T07:00:00Z");

    // Without a window, auto-assignment books the best candidate's first free slot.
    let open = shop.new_order("Whenever it suits").await;
    let booked = shop.act(&shop.dispatcher, &open, "assign", json!({ "auto": true })).await;
    assert_eq!(booked.status, StatusCode::OK, "{:?}", booked.body);
    assert!(booked.body["scheduled_start"].is_string());
    assert_eq!(booked.body["status"], "assigned");

    // A site in the south: A (north) fails the zone check.
    let site = format!("/api/v1/customers/{}/sites/{}", shop.customer_id, shop.site_id);
    assert_eq!(shop.app.patch(&site, Some(&shop.dispatcher), json!({ "zone": "south" })).await.status, StatusCode::OK);
    let third = shop.new_order("Another one").await;
    let ranked = shop
        .app
        .get(&format!("/api/v1/orders/{}/suggestions", third["id"].as_str().unwrap()), Some(&shop.dispatcher))
        .await;
    let a = ranked.body["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["technician_id"] == shop.tech_a_id.as_str())
        .unwrap();
    let zone = a["checks"].as_array().unwrap().iter().find(|c| c["check"] == "zone").unwrap();
    assert_eq!(zone["passed"], false);
    assert_eq!(zone["reason"], "does not serve south");
    assert_eq!(shop.app.get(&path, Some(&shop.tech_b)).await.status, StatusCode::FORBIDDEN);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_technician_sees_only_their_own_lane_and_other_organizations_nothing(db: PgPool) {
    let shop = Shop::open(db, false).await;
    set_hours(&shop, &shop.tech_a_id, all_week()).await;
    set_hours(&shop, &shop.tech_b_id, all_week()).await;
    let order_a = shop.new_order("A's job").await;
    let order_b = shop.new_order("B's job").await;
    book(&shop, &order_a, &shop.tech_a_id, "2026-12-01T06:00:00Z", "2026-12-01T07:00:00Z", false).await;
    book(&shop, &order_b, &shop.tech_b_id, "2026-12-01T06:00:00Z", "2026-12-01T07:00:00Z", false).await;
    let range = "from=2026-12-01T00:00:00Z&to=2026-12-02T00:00:00Z";
    let mine =
        shop.app.get(&format!("/api/v1/schedule?{range}&technician_ids={}", shop.tech_b_id), Some(&shop.tech_a)).await;
    assert_eq!(mine.status, StatusCode::OK);
    let lanes = mine.body["technicians"].as_array().unwrap();
    assert_eq!(lanes.len(), 1);
    assert_eq!(lanes[0]["technician_id"], shop.tech_a_id.as_str());
    assert_eq!(lanes[0]["bookings"][0]["order_id"], order_a["id"]);
    let everyone = shop.app.get(&format!("/api/v1/schedule?{range}"), Some(&shop.dispatcher)).await;
    assert_eq!(everyone.body["technicians"].as_array().unwrap().len(), 2);
    assert_eq!(
        shop.app.get(&format!("/api/v1/technicians/{}/time-off", shop.tech_b_id), Some(&shop.tech_a)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        shop.app.get("/api/v1/me/schedule?period=week", Some(&shop.dispatcher)).await.status,
        StatusCode::FORBIDDEN
    );
    let week = shop.app.get("/api/v1/me/schedule?period=week", Some(&shop.tech_a)).await;
    assert_eq!(week.status, StatusCode::OK, "{:?}", week.body);
    assert_eq!(week.body["technicians"][0]["technician_id"], shop.tech_a_id.as_str());

    // Another organization: no lanes, no time off, no bookings of these orders.
    let other = shop.app.with_org("Rival Repairs").await;
    shop.app.with_user(other, Role::Dispatcher, "disp@rival.test").await;
    let rival = shop.app.token_for("disp@rival.test").await;
    let theirs =
        shop.app.get(&format!("/api/v1/schedule?{range}&technician_ids={}", shop.tech_a_id), Some(&rival)).await;
    assert_eq!(theirs.body["technicians"], json!([]));
    assert_eq!(
        shop.app.get(&format!("/api/v1/technicians/{}/time-off", shop.tech_a_id), Some(&rival)).await.status,
        StatusCode::NOT_FOUND
    );
    let path = format!("/api/v1/orders/{}/booking", order_a["id"].as_str().unwrap());
    let hijack = shop
        .app
        .put(
            &path,
            Some(&rival),
            json!({ "technician_id": shop.tech_a_id, "start": "2026-12-02T06:00:00Z", "end": "2026-12-02T07:00:00Z" }),
        )
        .await;
    assert_eq!(hijack.status, StatusCode::NOT_FOUND);
    let slots = shop.app.get(&format!("/api/v1/schedule/slots?duration_minutes=60&{range}"), Some(&rival)).await;
    assert_eq!(slots.body, json!([]));
    assert_eq!(
        shop.app
            .get(&format!("/api/v1/orders/{}/suggestions", order_a["id"].as_str().unwrap()), Some(&rival))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
