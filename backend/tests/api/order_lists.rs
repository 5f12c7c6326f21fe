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
