//! Uploading and downloading attachments through the API, shared by the tests of each storage
//! backend.

use super::shop::Shop;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use exif::experimental::Writer;
use exif::{Field, In, Tag, Value as ExifValue};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use tower::ServiceExt;

/// An order assigned to technician A.
pub async fn order_of_a(shop: &Shop) -> String {
    let order = shop.new_order("Washer leaks").await;
    shop.act_ok(&shop.dispatcher, &order, "assign", json!({ "technician_id": shop.tech_a_id })).await;
    order["id"].as_str().unwrap().to_owned()
}

/// A 640×480 JPEG taken 2026-11-20 14:30:00 at +03:00, at 55°45'20.52"N 37°37'4.08"E.
pub fn photo() -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 128]));
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 70).encode_image(&pixels).unwrap();
    let ascii = |text: &str| ExifValue::Ascii(vec![text.as_bytes().to_vec()]);
    let rationals = |parts: &[(u32, u32)]| ExifValue::Rational(parts.iter().map(|&p| p.into()).collect());
    let fields = [
        Field { tag: Tag::DateTimeOriginal, ifd_num: In::PRIMARY, value: ascii("2026:11:20 14:30:00") },
        Field { tag: Tag::OffsetTimeOriginal, ifd_num: In::PRIMARY, value: ascii("+03:00") },
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: ascii("N") },
        Field { tag: Tag::GPSLatitude, ifd_num: In::PRIMARY, value: rationals(&[(55, 1), (45, 1), (2052, 100)]) },
        Field { tag: Tag::GPSLongitudeRef, ifd_num: In::PRIMARY, value: ascii("E") },
        Field { tag: Tag::GPSLongitude, ifd_num: In::PRIMARY, value: rationals(&[(37, 1), (37, 1), (408, 100)]) },
    ];
    let mut writer = Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut tiff = std::io::Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    // APP1 right after SOI: marker, length (counting itself), "Exif\0\0", the TIFF structure.
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&u16::try_from(tiff.len() + 8).unwrap().to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&tiff);
    let mut with_exif = jpeg[..2].to_vec();
    with_exif.extend_from_slice(&app1);
    with_exif.extend_from_slice(&jpeg[2..]);
    with_exif
}

pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A response with its body as bytes: downloads are files, not JSON.
pub struct Raw {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Raw {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    pub fn code(&self) -> String {
        self.json()["error"]["code"].as_str().unwrap_or("<no error code>").to_owned()
    }
}

/// Calls the router in-process.
pub async fn send(shop: &Shop, request: Request<Body>) -> Raw {
    let response = shop.app.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
    Raw { status, headers, bytes }
}

/// Uploads `bytes` as the one multipart part, `file`, of an attachment of `kind`.
pub async fn upload(shop: &Shop, token: &str, order: &str, kind: &str, name: &str, bytes: &[u8]) -> Raw {
    let boundary = "fieldflow-test-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::post(format!("/api/v1/orders/{order}/attachments?kind={kind}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(Body::from(body))
        .unwrap();
    send(shop, request).await
}

pub async fn get(shop: &Shop, token: &str, path: &str) -> Raw {
    let request =
        Request::get(path).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    send(shop, request).await
}

/// Every file under the storage directory (none when it was never created).
pub fn stored_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() { pending.push(path) } else { found.push(path) }
        }
    }
    found
}
