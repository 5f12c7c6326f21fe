//! An order's checklist, the proof `complete` needs (checklist, photos, work report) and the
//! report's money.

use crate::support::shop::Shop;
use axum::http::{Method, StatusCode};
use domain::Role;
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

/// The shop with a service type that has a checklist and photo rules, and technician A's rate.
struct Site {
    shop: Shop,
    boiler_id: String,
}

const RATE_MINOR: i64 = 100_001;

impl Site {
    async fn open(db: PgPool) -> Self {
        let shop = Shop::open(db, true).await;
        let boiler = shop
            .app
            .post(
                "/api/v1/service-types",
                Some(&shop.admin),
                json!({ "code": "boiler", "name": "Boiler service", "default_duration_minutes": 60,
                        "checklist": [
                            { "id": "diagnose", "label": "Diagnose the fault" },
                            { "id": "replace_seal", "label": "Replace the seal" },
                            { "id": "clean", "label": "Clean the filter", "required": false }
                        ],
                        "required_photos": { "before": 1, "after": 2 } }),
            )
            .await;
        assert_eq!(boiler.status, StatusCode::CREATED, "{:?}", boiler.body);
        let tech_a = Uuid::parse_str(&shop.tech_a_id).unwrap();
        sqlx::query!("UPDATE technician_profiles SET hourly_rate_minor = $2 WHERE user_id = $1", tech_a, RATE_MINOR)
            .execute(&shop.app.state.db)
            .await
            .unwrap();
        Self { boiler_id: boiler.body["id"].as_str().unwrap().to_owned(), shop }
    }

    async fn boiler_order(&self) -> Value {
        let response = self
            .shop
            .app
            .post(
                "/api/v1/orders",
                Some(&self.shop.dispatcher),
                json!({ "customer_id": self.shop.customer_id, "site_id": self.shop.site_id,
                        "service_type_id": self.boiler_id, "title": "Boiler leaks" }),
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{:?}", response.body);
        response.body
    }

    /// A boiler order assigned to technician A and in progress.
    async fn started(&self) -> Value {
        let shop = &self.shop;
        let order = self.boiler_order().await;
        shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
        shop.act_ok(&shop.tech_a, &order, "accept", json!({})).await;
        shop.act_ok(&shop.tech_a, &order, "start", json!({})).await
    }

    async fn tick(&self, token: &str, order: &Value, item: &str, body: Value) -> crate::support::TestResponse {
        let path = format!("/api/v1/orders/{}/checklist/{item}", order["id"].as_str().unwrap());
        self.shop.app.patch(&path, Some(token), body).await
    }

    async fn checklist(&self, token: &str, order: &Value) -> crate::support::TestResponse {
        self.shop.app.get(&format!("/api/v1/orders/{}/checklist", order["id"].as_str().unwrap()), Some(token)).await
    }

    /// Photos are uploaded by the attachments area, built by another engineer at the same time; these
    /// tests insert the rows directly, since completion only counts them.
    async fn attach(&self, order: &Value, kind: &str) -> Uuid {
        let id = Uuid::now_v7();
        let order_id = Uuid::parse_str(order["id"].as_str().unwrap()).unwrap();
        sqlx::query!(
            "INSERT INTO order_attachments (id, org_id, order_id, kind, file_name, content_type, size_bytes, sha256,
                                            storage_key)
             SELECT $1::uuid, org_id, id, $3::text::attachment_kind, 'photo.jpg', 'image/jpeg', 1000, sha256(convert_to($1::uuid::text, 'UTF8')),
                    'test/' || $1::uuid::text
             FROM orders WHERE id = $2",
            id,
            order_id,
            kind,
        )
        .execute(&self.shop.app.state.db)
        .await
        .unwrap();
        id
    }

    async fn stored(&self, order: &Value) -> Value {
        self.shop
            .app
            .get(&format!("/api/v1/orders/{}", order["id"].as_str().unwrap()), Some(&self.shop.admin))
            .await
            .body
    }

    async fn history_kinds(&self, order: &Value) -> Vec<String> {
        let path = format!("/api/v1/orders/{}/history", order["id"].as_str().unwrap());
        let history = self.shop.app.get(&path, Some(&self.shop.admin)).await;
        history.body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_owned()).collect()
    }
}

fn fields(response: &crate::support::TestResponse) -> Vec<String> {
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", response.body);
    assert_eq!(response.code(), "validation_failed");
    response.body["error"]["details"]["fields"].as_object().unwrap().keys().cloned().collect()
}

fn report() -> Value {
    json!({ "report": {
        "summary": "Replaced the seal and tested the pressure",
        "parts": [{ "name": "Seal", "quantity": 1.5, "unit_price_minor": 123457 },
                  { "name": "Screws", "quantity": 4, "unit_price_minor": 250 }],
        "labour_minutes": 7
    } })
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn the_checklist_is_copied_from_the_template_and_kept(db: PgPool) {
    let site = Site::open(db).await;
    let order = site.boiler_order().await;
    let list = site.checklist(&site.shop.dispatcher, &order).await;
    assert_eq!(list.status, StatusCode::OK, "{:?}", list.body);
    let items = list.body["items"].as_array().unwrap();
    let summary: Vec<(&str, &str, bool, &str)> = items
        .iter()
        .map(|i| {
            (
                i["item_id"].as_str().unwrap(),
                i["label"].as_str().unwrap(),
                i["required"] == true,
                i["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("diagnose", "Diagnose the fault", true, "pending"),
            ("replace_seal", "Replace the seal", true, "pending"),
            ("clean", "Clean the filter", false, "pending")
        ]
    );

    // The template changes; the order keeps its checklist and photo rules, a new order gets the new ones.
    let edit = site
        .shop
        .app
        .patch(
            &format!("/api/v1/service-types/{}", site.boiler_id),
            Some(&site.shop.admin),
            json!({ "checklist": [{ "id": "inspect", "label": "Inspect" }], "required_photos": { "before": 0, "after": 0 } }),
        )
        .await;
    assert_eq!(edit.status, StatusCode::OK, "{:?}", edit.body);
    let kept = site.checklist(&site.shop.dispatcher, &order).await;
    assert_eq!(kept.body, list.body);
    let newer = site.boiler_order().await;
    let new_list = site.checklist(&site.shop.dispatcher, &newer).await;
    assert_eq!(new_list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(new_list.body["items"][0]["item_id"], "inspect");
    let rules = sqlx::query!("SELECT id, required_photos_before, required_photos_after FROM orders ORDER BY id",)
        .fetch_all(&site.shop.app.state.db)
        .await
        .unwrap();
    let rules: Vec<(String, i32, i32)> =
        rules.into_iter().map(|r| (r.id.to_string(), r.required_photos_before, r.required_photos_after)).collect();
    assert_eq!(
        rules,
        [(order["id"].as_str().unwrap().to_owned(), 1, 2), (newer["id"].as_str().unwrap().to_owned(), 0, 0)]
    );
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn checklist_changes_follow_role_status_and_scope(db: PgPool) {
    let site = Site::open(db).await;
    let shop = &site.shop;
    let order = site.boiler_order().await;
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;

    // Assigned but not accepted: not yet the technician's to tick.
    let early = site.tick(&shop.tech_a, &order, "diagnose", json!({ "state": "done" })).await;
    assert_eq!((early.status, early.code()), (StatusCode::FORBIDDEN, "forbidden"));
    shop.act_ok(&shop.tech_a, &order, "accept", json!({})).await;

    let done = site.tick(&shop.tech_a, &order, "diagnose", json!({ "state": "done", "note": "burner ok" })).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.body["state"], "done");
    assert_eq!(done.body["note"], "burner ok");
    assert_eq!(done.body["updated_by"], shop.tech_a_id.as_str());

    let no_note = site.tick(&shop.tech_a, &order, "clean", json!({ "state": "not_applicable", "note": "  " })).await;
    assert_eq!(fields(&no_note), ["note"]);
    assert_eq!(no_note.body["error"]["details"]["fields"]["note"][0]["code"], "required");
    let manager = site.tick(&shop.manager, &order, "clean", json!({ "state": "done" })).await;
    assert_eq!((manager.status, manager.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let unknown = site.tick(&shop.tech_a, &order, "nope", json!({ "state": "done" })).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let extra = site.tick(&shop.tech_a, &order, "clean", json!({ "state": "done", "by": "me" })).await;
    assert_eq!(extra.status, StatusCode::UNPROCESSABLE_ENTITY);

    let by_dispatcher =
        site.tick(&shop.dispatcher, &order, "clean", json!({ "state": "not_applicable", "note": "no filter" })).await;
    assert_eq!(by_dispatcher.status, StatusCode::OK, "{:?}", by_dispatcher.body);

    // Technician B and another organization's admin: the order does not exist for them.
    let stranger_org = shop.app.with_org("Bolt Services").await;
    shop.app.with_user(stranger_org, Role::Admin, "admin@bolt.test").await;
    let stranger = shop.app.token_for("admin@bolt.test").await;
    let id = order["id"].as_str().unwrap();
    for token in [&shop.tech_b, &stranger] {
        for (method, path, body) in [
            (Method::GET, format!("/api/v1/orders/{id}/checklist"), None),
            (Method::PATCH, format!("/api/v1/orders/{id}/checklist/replace_seal"), Some(json!({ "state": "done" }))),
            (Method::GET, format!("/api/v1/orders/{id}/report"), None),
        ] {
            let response = shop.app.request(method.clone(), &path, Some(token), body).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}: {:?}", response.body);
        }
    }

    let list = site.checklist(&shop.tech_a, &order).await;
    let states: Vec<&str> =
        list.body["items"].as_array().unwrap().iter().map(|i| i["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["done", "pending", "not_applicable"], "refused changes changed nothing");
    assert_eq!(list.body["items"][2]["note"], "no filter");
    let kinds = site.history_kinds(&order).await;
    assert_eq!(kinds, ["created", "assign", "accept", "checklist", "checklist"]);
    let path = format!("/api/v1/orders/{id}/history");
    let history = shop.app.get(&path, Some(&shop.admin)).await;
    assert_eq!(
        history.body["items"][3]["payload"],
        json!({ "item_id": "diagnose", "state": "done", "note": "burner ok" })
    );
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn complete_needs_the_checklist_the_photos_and_a_report(db: PgPool) {
    let site = Site::open(db).await;
    let shop = &site.shop;
    let order = site.started().await;
    let version = order["version"].clone();

    let nothing = shop.act(&shop.tech_a, &order, "complete", json!({})).await;
    assert_eq!(
        fields(&nothing),
        ["checklist.diagnose", "checklist.replace_seal", "photos.after", "photos.before", "report"]
    );
    assert_eq!(nothing.body["error"]["details"]["fields"]["report"][0]["code"], "required");

    site.tick(&shop.tech_a, &order, "diagnose", json!({ "state": "done" })).await;
    site.tick(&shop.tech_a, &order, "replace_seal", json!({ "state": "not_applicable", "note": "seal was fine" }))
        .await;
    site.attach(&order, "before").await;
    site.attach(&order, "after").await;
    site.attach(&order, "other").await;
    let one_photo_short = shop.act(&shop.tech_a, &order, "complete", report()).await;
    assert_eq!(fields(&one_photo_short), ["photos.after"]);

    site.attach(&order, "after").await;
    let no_report = shop.act(&shop.tech_a, &order, "complete", json!({ "reason": "done" })).await;
    assert_eq!(fields(&no_report), ["report"]);
    let bad_report = shop
        .act(
            &shop.tech_a,
            &order,
            "complete",
            json!({ "report": { "summary": "x", "labour_minutes": 5, "signature_attachment_id": Uuid::now_v7(),
                                "parts": [{ "name": "Seal", "quantity": 1, "unit_price_minor": 1 },
                                          { "name": "Nut", "quantity": 0, "unit_price_minor": 1 }] } }),
        )
        .await;
    assert_eq!(fields(&bad_report), ["report.parts[1].quantity"]);
    let photo_as_signature = site.attach(&order, "before").await;
    let mut unsigned = report();
    unsigned["report"]["signature_attachment_id"] = json!(photo_as_signature);
    let not_a_signature = shop.act(&shop.tech_a, &order, "complete", unsigned).await;
    assert_eq!(fields(&not_a_signature), ["report.signature_attachment_id"]);

    // Every refusal changed nothing.
    let now = site.stored(&order).await;
    assert_eq!((now["status"].clone(), now["version"].clone()), (json!("in_progress"), version));
    let none =
        shop.app.get(&format!("/api/v1/orders/{}/report", order["id"].as_str().unwrap()), Some(&shop.admin)).await;
    assert_eq!((none.status, none.code()), (StatusCode::CONFLICT, "no_work_report"), "no report until completed");
    assert!(!site.history_kinds(&order).await.contains(&"complete".to_owned()));

    let signature = site.attach(&order, "signature").await;
    let mut signed = report();
    signed["report"]["signature_attachment_id"] = json!(signature);
    let completed = shop.act_ok(&shop.tech_a, &order, "complete", signed).await;
    assert_eq!(completed["status"], "closed", "this service type needs no approval");

    // 1.5 × 1,234.57 = 1,851.855 → 1,851.86; 4 × 2.50 = 10.00; 7 minutes at 1,000.01/h = 116.6678… → 116.67.
    let stored =
        shop.app.get(&format!("/api/v1/orders/{}/report", order["id"].as_str().unwrap()), Some(&shop.tech_a)).await;
    assert_eq!(stored.status, StatusCode::OK, "{:?}", stored.body);
    let rub = |amount_minor: i64| json!({ "amount_minor": amount_minor, "currency": "RUB" });
    assert_eq!(
        stored.body["parts"][0],
        json!({ "name": "Seal", "quantity": "1.5", "unit_price": rub(123_457), "line_total": rub(185_186) })
    );
    assert_eq!(stored.body["parts"][1]["line_total"], rub(1_000));
    assert_eq!(stored.body["parts_total"], rub(186_186));
    assert_eq!(stored.body["labour_total"], rub(11_667));
    assert_eq!(stored.body["total"], rub(197_853));
    assert_eq!(stored.body["labour_minutes"], 7);
    assert_eq!(stored.body["signature_attachment_id"], json!(signature));
    assert_eq!(stored.body["submitted_by"], shop.tech_a_id.as_str());

    let path = format!("/api/v1/orders/{}/history", order["id"].as_str().unwrap());
    let history = shop.app.get(&path, Some(&shop.admin)).await;
    let complete = history.body["items"].as_array().unwrap().iter().find(|e| e["kind"] == "complete").unwrap().clone();
    assert_eq!(
        complete["payload"]["report"],
        json!({ "parts_total_minor": 186_186, "labour_total_minor": 11_667, "total_minor": 197_853, "currency": "RUB" })
    );
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn rework_replaces_the_report(db: PgPool) {
    let site = Site::open(db).await;
    let shop = &site.shop;
    // An order of the plain service type: no checklist, no photos; only the report is needed.
    let order = shop.new_order("Washer leaks").await;
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    shop.act_ok(&shop.tech_a, &order, "accept", json!({})).await;
    shop.act_ok(&shop.tech_a, &order, "start", json!({})).await;
    shop.act_ok(&shop.tech_a, &order, "complete", report()).await;
    shop.act_ok(&shop.dispatcher, &order, "reject", json!({ "comment": "still drips" })).await;

    // The rework's report replaces the first one whole, its part lines included.
    let rework = json!({ "report": { "summary": "Tightened the hose", "labour_minutes": 60,
                                     "parts": [{ "name": "Clamp", "quantity": 0.333, "unit_price_minor": 1000 }] } });
    shop.act_ok(&shop.tech_a, &order, "complete", rework).await;
    let id = order["id"].as_str().unwrap();
    let stored = shop.app.get(&format!("/api/v1/orders/{id}/report"), Some(&shop.dispatcher)).await;
    assert_eq!(stored.body["summary"], "Tightened the hose");
    assert_eq!(stored.body["parts"].as_array().unwrap().len(), 1);
    assert_eq!(stored.body["parts"][0]["quantity"], "0.333");
    assert_eq!(stored.body["parts_total"]["amount_minor"], 333);
    assert_eq!(stored.body["labour_total"]["amount_minor"], RATE_MINOR);
    assert_eq!(stored.body["total"]["amount_minor"], RATE_MINOR + 333);
    let order_id = Uuid::parse_str(id).unwrap();
    let rows = sqlx::query_scalar!(
        r#"SELECT (SELECT count(*) FROM order_reports WHERE order_id = $1) + (SELECT count(*) FROM order_report_parts WHERE order_id = $1) AS "n!""#,
        order_id
    )
    .fetch_one(&shop.app.state.db)
    .await
    .unwrap();
    assert_eq!(rows, 2, "one report, one part: the first report's lines are gone");

    // Managers read the report; once the order is approved nobody changes its checklist.
    let read = shop.app.get(&format!("/api/v1/orders/{id}/report"), Some(&shop.manager)).await;
    assert_eq!(read.status, StatusCode::OK);
    shop.act_ok(&shop.admin, &order, "approve", json!({})).await;
    let boiler = site.started().await;
    shop.act(&shop.dispatcher, &boiler, "cancel", json!({ "reason": "customer left" })).await;
    let final_tick = site.tick(&shop.dispatcher, &boiler, "diagnose", json!({ "state": "done" })).await;
    assert_eq!(final_tick.status, StatusCode::FORBIDDEN);
}
