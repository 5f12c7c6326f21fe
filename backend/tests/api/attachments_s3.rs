//! Attachments kept in an S3 bucket: upload, download and thumbnail through the API against a real
//! S3-compatible server (moto: `scripts/test` starts it and sets `FIELDFLOW_TEST_S3_ENDPOINT`).

use crate::support::files::{PDF, get, order_of_a, photo, upload};
use crate::support::shop::Shop;
use axum::http::{StatusCode, header};
use fieldflow::config::StorageBackend;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::io::Write;

/// The test server's URL; `None`, after saying so, when it is not set outside CI.
fn endpoint() -> Option<String> {
    if let Ok(url) = std::env::var("FIELDFLOW_TEST_S3_ENDPOINT")
        && !url.is_empty()
    {
        return Some(url.trim_end_matches('/').to_owned());
    }
    let ci = std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false");
    assert!(
        !ci,
        "FIELDFLOW_TEST_S3_ENDPOINT is not set: CI must run the S3 tests (scripts/test starts moto and sets it)"
    );
    // Past the harness's capture of `eprintln!`, so the skip shows in a plain `cargo test`.
    let _ = writeln!(
        std::io::stderr(),
        "skipped: FIELDFLOW_TEST_S3_ENDPOINT is not set (scripts/test starts moto and sets it)"
    );
    None
}

/// A shop whose uploads go to a new bucket of its own, with an optional upload limit.
async fn shop(db: PgPool, endpoint: &str, max_upload_bytes: Option<u64>) -> (Shop, String) {
    let bucket = format!("fieldflow-test-{}", uuid::Uuid::now_v7().simple());
    // object_store cannot create buckets; moto takes an unsigned CreateBucket.
    fieldflow::install_crypto_provider();
    let created = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.unwrap();
    assert!(created.status().is_success(), "creating {bucket} at {endpoint}: {}", created.status());
    let (name, url) = (bucket.clone(), endpoint.to_owned());
    let shop = Shop::open_with(db, false, move |settings| {
        settings.storage_backend = StorageBackend::S3;
        settings.s3_bucket = name;
        settings.s3_endpoint = url;
        settings.s3_access_key_id = "test".into();
        settings.s3_secret_access_key = "test".into();
        if let Some(limit) = max_upload_bytes {
            settings.max_upload_bytes = limit;
        }
    })
    .await;
    (shop, bucket)
}

/// An object as the bucket holds it, read past the API.
async fn stored(shop: &Shop, key: &str) -> Vec<u8> {
    shop.app.state.storage.get(&StorePath::from(key)).await.unwrap().bytes().await.unwrap().to_vec()
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_photo_and_its_thumbnail_round_trip_through_the_bucket(db: PgPool) {
    let Some(endpoint) = endpoint() else { return };
    let (shop, bucket) = shop(db.clone(), &endpoint, None).await;
    assert_eq!(shop.app.state.storage.to_string(), format!("AmazonS3({bucket})"));
    let order = order_of_a(&shop).await;
    let photo = photo();

    let created = upload(&shop, &shop.tech_a, &order, "before", "kitchen.jpg", &photo).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.json());
    let view = created.json();
    let sha256 = hex::encode(Sha256::digest(&photo));
    assert_eq!(view["sha256"], sha256);
    assert_eq!(view["size_bytes"], photo.len());
    assert_eq!(view["has_thumbnail"], true);
    assert_eq!(view["taken_at"], "2026-11-20T11:30:00Z");
    let id = view["id"].as_str().unwrap();

    let file = get(&shop, &shop.tech_a, &format!("/api/v1/orders/{order}/attachments/{id}")).await;
    assert_eq!(file.status, StatusCode::OK);
    assert_eq!(file.headers[header::CONTENT_TYPE], "image/jpeg");
    assert_eq!(file.bytes, photo);
    assert_eq!(hex::encode(Sha256::digest(&file.bytes)), sha256);

    let thumbnail = get(&shop, &shop.dispatcher, &format!("/api/v1/orders/{order}/attachments/{id}/thumbnail")).await;
    assert_eq!(thumbnail.status, StatusCode::OK);
    assert_eq!(thumbnail.headers[header::CONTENT_TYPE], "image/jpeg");
    let small = image::load_from_memory(&thumbnail.bytes).unwrap();
    assert_eq!((small.width(), small.height()), (320, 240));

    let (key, thumbnail_key): (String, String) =
        sqlx::query_as("SELECT storage_key, thumbnail_key FROM order_attachments WHERE id = $1::uuid")
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(stored(&shop, &key).await, photo);
    assert_eq!(stored(&shop, &thumbnail_key).await, thumbnail.bytes);
}

#[sqlx::test(migrator = "fieldflow::db::MIGRATOR")]
async fn a_refused_upload_leaves_the_bucket_empty(db: PgPool) {
    let Some(endpoint) = endpoint() else { return };
    let (shop, _bucket) = shop(db.clone(), &endpoint, Some(10_000)).await;
    let order = order_of_a(&shop).await;
    let photo = photo();
    assert!(photo.len() > 10_000, "the photo must exceed the test limit");

    let too_large = upload(&shop, &shop.tech_a, &order, "after", "big.jpg", &photo).await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE, "{:?}", too_large.json());
    let listed = shop.app.state.storage.list_with_delimiter(None).await.unwrap();
    assert!(listed.objects.is_empty() && listed.common_prefixes.is_empty(), "{listed:?}");

    let pdf = upload(&shop, &shop.tech_a, &order, "other", "act.pdf", PDF).await;
    assert_eq!(pdf.status, StatusCode::CREATED, "{:?}", pdf.json());
    let id = pdf.json()["id"].as_str().unwrap().to_owned();
    let file = get(&shop, &shop.tech_a, &format!("/api/v1/orders/{order}/attachments/{id}")).await;
    assert_eq!(file.bytes, PDF);
    let listed = shop.app.state.storage.list_with_delimiter(None).await.unwrap();
    assert_eq!(listed.common_prefixes.len(), 1, "{listed:?}");
}
