//! Order lists: every sort pages through every order exactly once in its order, cursors are
//! checked, and free text finds the same orders whether the term is rare or common.

use crate::support::shop::Shop;
use axum::http::StatusCode;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::cmp::Ordering;
use uuid::Uuid;

const SORTS: [&str; 6] = ["newest", "oldest", "scheduled", "scheduled_desc", "due", "priority"];

fn at(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str().map(|text| text.parse().unwrap())
}

fn rank(priority: &Value) -> usize {
    ["low", "normal", "high", "urgent"].iter().position(|p| priority == p).unwrap()
}

fn id(order: &Value) -> Uuid {
    order["id"].as_str().unwrap().parse().unwrap()
}

/// Missing times last, whichever the direction.
fn by_time(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>, descending: bool) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) if descending => b.cmp(&a),
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The order each sort promises, written from its documentation rather than from the SQL.
fn expected_order(sort: &str, orders: &[Value]) -> Vec<Uuid> {
    let mut sorted = orders.to_vec();
    sorted.sort_by(|a, b| match sort {
        "newest" => id(b).cmp(&id(a)),
        "oldest" => id(a).cmp(&id(b)),
        "scheduled" => by_time(at(&a["scheduled_start"]), at(&b["scheduled_start"]), false).then(id(a).cmp(&id(b))),
        "scheduled_desc" => by_time(at(&a["scheduled_start"]), at(&b["scheduled_start"]), true).then(id(b).cmp(&id(a))),
        "due" => by_time(at(&a["sla_due_at"]), at(&b["sla_due_at"]), false).then(id(a).cmp(&id(b))),
        "priority" => rank(&b["priority"]).cmp(&rank(&a["priority"])).then(id(b).cmp(&id(a))),
        other => panic!("unknown sort {other}"),
    });
    sorted.iter().map(id).collect()
}

async fn walk(shop: &Shop, query: &str, limit: usize) -> Vec<Uuid> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/api/v1/orders?{query}&limit={limit}");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={}", urlencode(cursor)));
        }
        let page = shop.app.get(&url, Some(&shop.dispatcher)).await;
        assert_eq!(page.status, StatusCode::OK, "{url}: {:?}", page.body);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        seen.extend(items.iter().map(id));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return seen,
        }
    }
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn every_sort_pages_through_every_order_once_in_its_order(db: PgPool) {
    let shop = Shop::open(db, false).await;
    let base = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
    let priorities = ["low", "normal", "high", "urgent"];
    let mut orders = Vec::new();
    for n in 0..11_i64 {
        let mut body = json!({ "customer_id": shop.customer_id, "site_id": shop.site_id,
                               "service_type_id": shop.service_type_id, "title": format!("Job {n}"),
                               "priority": priorities[(n % 4) as usize] });
        // Every third order is unscheduled; two pairs share a start, so ties need the id.
        if n % 3 != 0 {
            let start = base + Duration::hours((n * 7) % 5);
            body["scheduled_start"] = json!(start);
            body["scheduled_end"] = json!(start + Duration::hours(1));
        }
        let created = shop.app.post("/api/v1/orders", Some(&shop.dispatcher), body).await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        orders.push(created.body);
    }
    // Only normal and urgent have SLA targets, so some orders have no due time.
    assert!(orders.iter().any(|o| o["sla_due_at"].is_null()) && orders.iter().any(|o| !o["sla_due_at"].is_null()));

    for sort in SORTS {
        let expected = expected_order(sort, &orders);
        for limit in [1, 3, 50] {
            assert_eq!(walk(&shop, &format!("sort={sort}"), limit).await, expected, "sort={sort}, limit={limit}");
        }
    }
    let urgent_first = walk(&shop, "sort=priority&status=new", 2).await;
    assert_eq!(urgent_first.len(), orders.len());
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn cursors_from_another_sort_or_edited_are_refused(db: PgPool) {
    let shop = Shop::open(db, false).await;
    for n in 0..3 {
        shop.new_order(&format!("Job {n}")).await;
    }
    let page = shop.app.get("/api/v1/orders?sort=priority&limit=1", Some(&shop.dispatcher)).await;
    let cursor = page.body["next_cursor"].as_str().unwrap().to_owned();

    let other = shop.app.get(&format!("/api/v1/orders?sort=oldest&cursor={cursor}"), Some(&shop.dispatcher)).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", other.body);
    assert_eq!(other.code(), "validation_failed");
    assert_eq!(other.body["error"]["details"]["fields"]["cursor"][0]["code"], "other_sort", "{:?}", other.body);

    let edited = cursor.replace("priority~normal", "priority~extreme");
    let bad = shop.app.get(&format!("/api/v1/orders?sort=priority&cursor={edited}"), Some(&shop.dispatcher)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.body);
    assert!(bad.body["error"]["message"].as_str().unwrap().contains("next_cursor"), "{:?}", bad.body);
}

/// A rare term is looked up through the trigram index and sorted; a term matching more orders than
/// that path sorts is tested row by row along the sort. Both must return what SQL says matches.
#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn rare_and_common_terms_find_what_sql_finds(db: PgPool) {
    let shop = Shop::open(db.clone(), false).await;
    let rare = shop.new_order("Squeaky drum bearing").await;
    let template = shop.new_order("template").await;
    sqlx::query(
        "INSERT INTO orders (id, org_id, number, customer_id, site_id, service_type_id, title, description, priority,
                             approval_required, currency, source, tracking_token, created_at)
         SELECT gen_random_uuid(), org_id, number || '-' || g, customer_id, site_id, service_type_id,
                'Leaking hose ' || g, '', priority, approval_required, currency, source, md5(random()::text || g),
                created_at
         FROM orders, generate_series(1, 2100) g WHERE id = $1",
    )
    .bind(id(&template))
    .execute(&db)
    .await
    .unwrap();

    let found = walk(&shop, "q=SQUEAKY%20drum", 50).await;
    assert_eq!(found, vec![id(&rare)]);

    for sort in ["newest", "oldest"] {
        let direction = if sort == "newest" { "DESC" } else { "ASC" };
        let truth: Vec<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM orders WHERE lower(title) LIKE '%leaking hose 1%' ORDER BY id {direction}"
        )))
        .fetch_all(&db)
        .await
        .unwrap();
        assert!(truth.len() > 100, "enough matches to page");
        assert_eq!(walk(&shop, &format!("q=leaking%20hose%201&sort={sort}"), 200).await, truth, "{sort}");
        let common =
            shop.app.get(&format!("/api/v1/orders?q=leaking&sort={sort}&limit=200"), Some(&shop.dispatcher)).await;
        let first: Vec<Uuid> = common.body["items"].as_array().unwrap().iter().map(id).collect();
        let truth: Vec<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT id FROM orders WHERE lower(title) LIKE '%leaking%' ORDER BY id {direction} LIMIT 200"
        )))
        .fetch_all(&db)
        .await
        .unwrap();
        assert_eq!(first, truth, "a common term, {sort}");
    }
    let wildcard = shop.app.get("/api/v1/orders?q=%25", Some(&shop.dispatcher)).await;
    assert_eq!(wildcard.body["items"], json!([]), "a % is a character, not a wildcard");
}

/// A second customer of the shop, with one site; answers its id and site id.
async fn customer(shop: &Shop, name: &str, phone: &str) -> (String, String) {
    let created = shop
        .app
        .post(
            "/api/v1/customers",
            Some(&shop.admin),
            json!({ "kind": "person", "name": name, "phones": [phone], "sites": [{ "address": "Kazan, Bauman 7" }] }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let customer = &created.body["customer"];
    (customer["id"].as_str().unwrap().to_owned(), customer["sites"][0]["id"].as_str().unwrap().to_owned())
}

async fn order_for(shop: &Shop, (customer_id, site_id): &(String, String), title: &str) -> Value {
    let body = json!({ "customer_id": customer_id, "site_id": site_id, "service_type_id": shop.service_type_id,
                       "title": title });
    let created = shop.app.post("/api/v1/orders", Some(&shop.dispatcher), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    created.body
}

async fn ids(shop: &Shop, token: &str, query: &str) -> Vec<Uuid> {
    let page = shop.app.get(&format!("/api/v1/orders?{query}"), Some(token)).await;
    assert_eq!(page.status, StatusCode::OK, "{query}: {:?}", page.body);
    let mut ids: Vec<Uuid> = page.body["items"].as_array().unwrap().iter().map(id).collect();
    ids.sort();
    ids
}

fn sorted(orders: &[&Value]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = orders.iter().map(|order| id(order)).collect();
    ids.sort();
    ids
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn q_finds_orders_by_a_part_of_the_customer_name_or_phone(db: PgPool) {
    let shop = Shop::open(db, false).await;
    let petrov = customer(&shop, "Oleg Petrovsky", "+79991234567").await;
    let first = order_for(&shop, &petrov, "Drum noise").await;
    let second = order_for(&shop, &petrov, "Door seal").await;
    // The shop's own customer (Maria Ivanova, +7 916 555-01-01) matches none of the searches below.
    let other = shop.new_order("Drum noise too").await;

    let expected = sorted(&[&first, &second]);
    for q in ["PETROV", "9991234", "%2B7%20999%20123-45-67", "8%20(999)%20123%2045%2067"] {
        assert_eq!(ids(&shop, &shop.dispatcher, &format!("q={q}")).await, expected, "q={q}");
    }
    // The order's own text still matches, alongside the customer.
    assert_eq!(ids(&shop, &shop.dispatcher, "q=drum").await, sorted(&[&first, &other]));
    // Too few digits to be part of a phone number.
    assert_eq!(ids(&shop, &shop.dispatcher, "q=999").await, Vec::<Uuid>::new());
}

/// More customers match than their orders are sorted for: the search is then tested row by row,
/// with the same answer.
#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_customer_name_common_to_many_customers_finds_the_same(db: PgPool) {
    let shop = Shop::open(db.clone(), false).await;
    let first = order_for(&shop, &customer(&shop, "Anna Sidorova", "+79990000001").await, "Leak").await;
    let second = order_for(&shop, &customer(&shop, "Boris Sidorov", "+79990000002").await, "Hum").await;
    sqlx::query(
        "INSERT INTO customers (id, org_id, kind, name)
         SELECT gen_random_uuid(), org_id, 'person', 'Sidorov ' || g FROM customers, generate_series(1, 250) g
         WHERE id = $1::uuid",
    )
    .bind(&shop.customer_id)
    .execute(&db)
    .await
    .unwrap();
    assert_eq!(ids(&shop, &shop.dispatcher, "q=sidorov").await, sorted(&[&first, &second]));
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_technician_searching_a_customer_sees_only_their_own_orders(db: PgPool) {
    let shop = Shop::open(db, false).await;
    let petrov = customer(&shop, "Oleg Petrovsky", "+79991234567").await;
    let theirs = order_for(&shop, &petrov, "Drum noise").await;
    let mine = shop.new_order("Door seal").await;
    shop.act_ok(&shop.dispatcher, &theirs, "assign", json!({ "technician_id": shop.tech_b_id })).await;
    shop.act_ok(&shop.dispatcher, &mine, "assign", json!({ "technician_id": shop.tech_a_id })).await;

    assert_eq!(ids(&shop, &shop.tech_a, "q=petrovsky").await, Vec::<Uuid>::new());
    assert_eq!(ids(&shop, &shop.tech_a, "q=9991234").await, Vec::<Uuid>::new());
    let counted = shop.app.get("/api/v1/orders?q=petrovsky&with_total=true", Some(&shop.tech_a)).await;
    assert_eq!(counted.body["total"], json!({ "count": 0, "exact": true }), "{:?}", counted.body);
    assert_eq!(ids(&shop, &shop.tech_b, "q=petrovsky").await, vec![id(&theirs)]);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn several_statuses_repeated_or_comma_separated(db: PgPool) {
    let shop = Shop::open(db, false).await;
    let fresh = shop.new_order("Fresh").await;
    let assigned = shop.new_order("Assigned").await;
    let cancelled = shop.new_order("Cancelled").await;
    shop.act_ok(&shop.dispatcher, &assigned, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    shop.act_ok(&shop.dispatcher, &cancelled, "cancel", json!({ "reason": "customer changed their mind" })).await;

    let open = sorted(&[&fresh, &assigned]);
    assert_eq!(ids(&shop, &shop.dispatcher, "status=new&status=assigned").await, open);
    assert_eq!(ids(&shop, &shop.dispatcher, "status=new,assigned").await, open);
    assert_eq!(ids(&shop, &shop.dispatcher, "status=cancelled,new&status=assigned").await.len(), 3);
    assert_eq!(ids(&shop, &shop.dispatcher, "status=cancelled").await, vec![id(&cancelled)]);

    for query in ["status=new,lost", "status=new&status=lost"] {
        let refused = shop.app.get(&format!("/api/v1/orders?{query}"), Some(&shop.dispatcher)).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{query}: {:?}", refused.body);
        assert_eq!(refused.code(), "bad_request");
        assert!(refused.body["error"]["message"].as_str().unwrap().contains("lost"), "{:?}", refused.body);
    }
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn with_total_counts_what_the_filters_match_on_every_page(db: PgPool) {
    let shop = Shop::open(db, false).await;
    let petrov = customer(&shop, "Oleg Petrovsky", "+79991234567").await;
    let mut orders = Vec::new();
    for n in 0..5 {
        orders.push(order_for(&shop, &petrov, &format!("Job {n}")).await);
        orders.push(shop.new_order(&format!("Other job {n}")).await);
    }
    let mut assigned = Vec::new();
    for order in orders.iter().step_by(3) {
        shop.act_ok(&shop.dispatcher, order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
        assigned.push(id(order));
    }
    let customer_id = petrov.0.as_str();
    let matching =
        orders.iter().filter(|order| order["customer_id"] == customer_id && !assigned.contains(&id(order))).count();
    assert!(matching > 2, "more than a page");
    let query = "q=petrov&status=new&with_total=true&limit=2";
    let first = shop.app.get(&format!("/api/v1/orders?{query}"), Some(&shop.dispatcher)).await;
    assert_eq!(first.body["total"], json!({ "count": matching, "exact": true }), "{:?}", first.body);
    let cursor = urlencode(first.body["next_cursor"].as_str().unwrap());
    let next = shop.app.get(&format!("/api/v1/orders?{query}&cursor={cursor}"), Some(&shop.dispatcher)).await;
    assert_eq!(next.body["total"], first.body["total"], "the total is of the list, not of what is left");

    let without = shop.app.get("/api/v1/orders?q=petrov", Some(&shop.dispatcher)).await;
    assert!(without.body.get("total").is_none(), "counted only when asked: {:?}", without.body);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_total_past_the_cap_says_it_is_not_exact(db: PgPool) {
    let shop = Shop::open_with(db, false, |settings| settings.order_total_cap = 3).await;
    for n in 0..4 {
        shop.new_order(&format!("Job {n}")).await;
    }
    let over = shop.app.get("/api/v1/orders?with_total=true", Some(&shop.dispatcher)).await;
    assert_eq!(over.body["total"], json!({ "count": 3, "exact": false }), "{:?}", over.body);
    let at = shop.app.get("/api/v1/orders?with_total=true&q=job%201", Some(&shop.dispatcher)).await;
    assert_eq!(at.body["total"], json!({ "count": 1, "exact": true }), "{:?}", at.body);
}
