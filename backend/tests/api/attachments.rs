//! Comments and attachments on orders: streaming uploads with limits and type detection, photo
//! facts and thumbnails, downloads, who may do what, and the history events they leave.

use crate::support::files::{PDF, get, order_of_a, photo, stored_files, upload};
use crate::support::shop::Shop;
use axum::http::{StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::path::PathBuf;

/// A shop whose uploads go to a directory of its own, with an optional upload limit.
async fn shop(db: PgPool, max_upload_bytes: Option<u64>) -> (Shop, PathBuf) {
    let dir = std::env::temp_dir().join(format!("fieldflow-test-uploads-{}", uuid::Uuid::now_v7()));
    let storage = dir.clone();
    let shop = Shop::open_with(db, false, move |settings| {
        settings.storage_dir = storage;
        if let Some(limit) = max_upload_bytes {
            settings.max_upload_bytes = limit;
        }
    })
    .await;
    (shop, dir)
}

async fn events(db: &PgPool, order: &str, kind: &str) -> Vec<Value> {
    sqlx::query_scalar::<_, Value>(
        "SELECT payload FROM order_events WHERE order_id = $1::uuid AND kind = $2 ORDER BY id",
    )
    .bind(order)
    .bind(kind)
    .fetch_all(db)
    .await
    .unwrap()
}

async fn attachment_rows(db: &PgPool) -> i64 {
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM order_attachments").fetch_one(db).await.unwrap()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_photo_round_trips_with_its_thumbnail_exif_and_event(db: PgPool) {
    let (shop, dir) = shop(db.clone(), None).await;
    let order = order_of_a(&shop).await;
    let photo = photo();
    assert!(photo.len() < 64 * 1024);

    let created = upload(&shop, &shop.tech_a, &order, "before", "../kitchen/фото 1.jpg", &photo).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json());
    let view = created.json();
    assert_eq!(view["kind"], "before");
    assert_eq!(view["file_name"], "фото 1.jpg", "only the last path segment is kept");
    assert_eq!(view["content_type"], "image/jpeg");
    assert_eq!(view["size_bytes"], photo.len());
    assert_eq!(view["sha256"], hex::encode(Sha256::digest(&photo)));
    assert_eq!(view["has_thumbnail"], true);
    assert_eq!(view["taken_at"], "2026-11-20T11:30:00Z", "14:30 at +03:00");
    assert!((view["latitude"].as_f64().unwrap() - 55.755_7).abs() < 1e-4, "{view}");
    assert!((view["longitude"].as_f64().unwrap() - 37.617_8).abs() < 1e-4, "{view}");
    assert_eq!(view["uploaded_by"], shop.tech_a_id);
    assert_eq!(stored_files(&dir).len(), 2, "the original and its thumbnail");

    let id = view["id"].as_str().unwrap();
    let file = get(&shop, &shop.tech_a, &format!("/api/v1/orders/{order}/attachments/{id}")).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.bytes, photo);
    assert_eq!(hex::encode(Sha256::digest(&file.bytes)), view["sha256"].as_str().unwrap());
    assert_eq!(file.headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(file.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let disposition = file.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\""), "{disposition}");
    assert!(disposition.ends_with("filename*=UTF-8''%D1%84%D0%BE%D1%82%D0%BE%201.jpg"), "{disposition}");

    let thumbnail = get(&shop, &shop.dispatcher, &format!("/api/v1/orders/{order}/attachments/{id}/thumbnail")).await;
    assert_eq!(thumbnail.status, StatusCode::OK);
    assert_eq!(thumbnail.headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(image::guess_format(&thumbnail.bytes).unwrap(), image::ImageFormat::Jpeg);
    let small = image::load_from_memory(&thumbnail.bytes).unwrap();
    assert_eq!((small.width(), small.height()), (320, 240));

    let list = get(&shop, &shop.manager, &format!("/api/v1/orders/{order}/attachments")).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.json()["items"].as_array().unwrap().len(), 1);
    assert_eq!(list.json()["items"][0], view);
    let other_kind = get(&shop, &shop.manager, &format!("/api/v1/orders/{order}/attachments?kind=after")).await;
    assert_eq!(other_kind.json()["items"], json!([]));

    let payloads = events(&db, &order, "attachment").await;
    assert_eq!(
        payloads,
        [json!({ "attachment_id": id, "kind": "before", "file_name": "фото 1.jpg", "size_bytes": photo.len() })]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn oversized_and_disguised_files_are_refused_and_leave_nothing(db: PgPool) {
    let (shop, dir) = shop(db.clone(), Some(10_000)).await;
    let order = order_of_a(&shop).await;
    let photo = photo();
    assert!(photo.len() > 10_000, "the photo must exceed the test limit");

    let too_large = upload(&shop, &shop.tech_a, &order, "after", "big.jpg", &photo).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", too_large.json());
    assert_eq!(too_large.code(), "payload_too_large");
    // Far beyond the limit the body itself is cut off, with the same answer.
    let huge = upload(&shop, &shop.tech_a, &order, "after", "huge.jpg", &vec![0xFF; 200_000]).await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.code(), "payload_too_large");

    let html = upload(&shop, &shop.tech_a, &order, "after", "photo.jpg", b"<!doctype html><script>x()</script>").await;
    assert_eq!(html.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(html.code(), "unsupported_media_type");
    let empty = upload(&shop, &shop.tech_a, &order, "after", "empty.jpg", b"").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(attachment_rows(&db).await, 0);
    assert_eq!(stored_files(&dir), Vec::<PathBuf>::new());
    assert!(events(&db, &order, "attachment").await.is_empty());

    let pdf = upload(&shop, &shop.tech_a, &order, "other", "act.pdf", PDF).await;
    assert_eq!(pdf.status, StatusCode::CREATED, "{:?}", pdf.json());
    assert_eq!(pdf.json()["content_type"], "application/pdf");
    assert_eq!(pdf.json()["has_thumbnail"], false);
    assert_eq!(pdf.json()["taken_at"], Value::Null);
    let id = pdf.json()["id"].as_str().unwrap().to_owned();
    let file = get(&shop, &shop.tech_a, &format!("/api/v1/orders/{order}/attachments/{id}")).await;
    assert_eq!(file.bytes, PDF);
    assert_eq!(file.headers[header::CONTENT_TYPE], "application/pdf");
    let thumbnail = get(&shop, &shop.tech_a, &format!("/api/v1/orders/{order}/attachments/{id}/thumbnail")).await;
    assert_eq!(thumbnail.status, StatusCode::NOT_FOUND);
    assert_eq!(stored_files(&dir).len(), 1);

    let bad_kind = upload(&shop, &shop.tech_a, &order, "selfie", "act.pdf", PDF).await;
    assert_eq!(bad_kind.status, StatusCode::BAD_REQUEST);
    assert_eq!(attachment_rows(&db).await, 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn only_those_who_see_the_order_touch_its_files(db: PgPool) {
    let (shop, dir) = shop(db.clone(), None).await;
    let order = order_of_a(&shop).await;
    let created = upload(&shop, &shop.tech_a, &order, "before", "a.pdf", PDF).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let list = format!("/api/v1/orders/{order}/attachments");
    let file = format!("/api/v1/orders/{order}/attachments/{id}");

    // Technician B: the order does not exist for them.
    assert_eq!(get(&shop, &shop.tech_b, &list).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&shop, &shop.tech_b, &file).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&shop, &shop.tech_b, &format!("{file}/thumbnail")).await.status, StatusCode::NOT_FOUND);
    let by_b = upload(&shop, &shop.tech_b, &order, "before", "b.pdf", PDF).await;
    assert_eq!(by_b.status, StatusCode::NOT_FOUND);
    assert_eq!(by_b.code(), "not_found");

    // Managers read, never write.
    assert_eq!(get(&shop, &shop.manager, &file).await.status, StatusCode::OK);
    let by_manager = upload(&shop, &shop.manager, &order, "before", "m.pdf", PDF).await;
    assert_eq!(by_manager.status, StatusCode::FORBIDDEN);
    assert_eq!(by_manager.code(), "forbidden");

    // Another organization: 404 for everything, even its admin.
    let other = shop.app.with_org("Bolt Service").await;
    shop.app.with_user(other, domain::Role::Admin, "admin@bolt.test").await;
    let stranger = shop.app.token_for("admin@bolt.test").await;
    assert_eq!(get(&shop, &stranger, &list).await.status, StatusCode::NOT_FOUND);
    assert_eq!(get(&shop, &stranger, &file).await.status, StatusCode::NOT_FOUND);
    assert_eq!(upload(&shop, &stranger, &order, "before", "s.pdf", PDF).await.status, StatusCode::NOT_FOUND);

    // An attachment id of another order is not found under this one.
    let second = order_of_a(&shop).await;
    assert_eq!(
        get(&shop, &shop.tech_a, &format!("/api/v1/orders/{second}/attachments/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    // The dispatcher may upload.
    assert_eq!(upload(&shop, &shop.dispatcher, &order, "other", "d.pdf", PDF).await.status, StatusCode::CREATED);
    assert_eq!(attachment_rows(&db).await, 2);
    assert_eq!(stored_files(&dir).len(), 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn comments_follow_the_order_visibility_and_leave_events(db: PgPool) {
    let (shop, _dir) = shop(db.clone(), None).await;
    let order = order_of_a(&shop).await;
    let path = format!("/api/v1/orders/{order}/comments");

    let first = shop
        .app
        .post(&path, Some(&shop.tech_a), json!({ "body": "  Need a new pump ", "visibility": "internal" }))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);
    assert_eq!(first.body["body"], "Need a new pump");
    assert_eq!(first.body["visibility"], "internal");
    assert_eq!(first.body["author_id"], shop.tech_a_id);
    let second = shop
        .app
        .post(&path, Some(&shop.dispatcher), json!({ "body": "We come tomorrow at 10", "visibility": "customer" }))
        .await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.body["visibility"], "customer");

    let all = shop.app.get(&path, Some(&shop.manager)).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(
        crate::support::ids(&all.body),
        [first.body["id"].as_str().unwrap(), second.body["id"].as_str().unwrap()]
    );
    let page = shop.app.get(&format!("{path}?limit=1"), Some(&shop.tech_a)).await;
    assert_eq!(crate::support::ids(&page.body), [first.body["id"].as_str().unwrap()]);
    let cursor = page.body["next_cursor"].as_str().unwrap();
    let next = shop.app.get(&format!("{path}?limit=1&cursor={cursor}"), Some(&shop.tech_a)).await;
    assert_eq!(crate::support::ids(&next.body), [second.body["id"].as_str().unwrap()]);
    assert_eq!(next.body["next_cursor"], Value::Null);

    let invalid = shop.app.post(&path, Some(&shop.tech_a), json!({ "body": "   ", "visibility": "internal" })).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.body["error"]["details"]["fields"]["body"][0]["code"], "invalid_length");
    let unknown = shop.app.post(&path, Some(&shop.tech_a), json!({ "body": "x", "visibility": "public" })).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    let by_manager = shop.app.post(&path, Some(&shop.manager), json!({ "body": "x", "visibility": "internal" })).await;
    assert_eq!(by_manager.status, StatusCode::FORBIDDEN);
    let by_b = shop.app.post(&path, Some(&shop.tech_b), json!({ "body": "x", "visibility": "internal" })).await;
    assert_eq!(by_b.status, StatusCode::NOT_FOUND);
    assert_eq!(shop.app.get(&path, Some(&shop.tech_b)).await.status, StatusCode::NOT_FOUND);
    let other = shop.app.with_org("Bolt Service").await;
    shop.app.with_user(other, domain::Role::Admin, "admin@bolt.test").await;
    let stranger = shop.app.token_for("admin@bolt.test").await;
    assert_eq!(shop.app.get(&path, Some(&stranger)).await.status, StatusCode::NOT_FOUND);
    let by_stranger = shop.app.post(&path, Some(&stranger), json!({ "body": "x", "visibility": "internal" })).await;
    assert_eq!(by_stranger.status, StatusCode::NOT_FOUND);

    let comments: i64 = sqlx::query_scalar("SELECT count(*) FROM order_comments").fetch_one(&db).await.unwrap();
    assert_eq!(comments, 2, "refused comments stored nothing");
    let payloads = events(&db, &order, "comment").await;
    assert_eq!(
        payloads,
        [
            json!({ "comment_id": first.body["id"], "visibility": "internal" }),
            json!({ "comment_id": second.body["id"], "visibility": "customer" }),
        ]
    );
    let history = shop.app.get(&format!("/api/v1/orders/{order}/history"), Some(&shop.tech_a)).await;
    let kinds: Vec<&str> =
        history.body["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "assign", "comment", "comment"]);
}
