//! What an uploaded file is, told by its bytes only, and what a photo says about itself.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use exif::{In, Tag, Value};
use image::{ImageFormat, ImageReader, Limits};
use std::io::Cursor;

/// Enough of the start of a file to tell its type (HEIC lists its brands after the first 16 bytes).
pub const HEAD_BYTES: usize = 4096;

/// The longest side of a thumbnail, in pixels.
pub const THUMBNAIL_MAX: u32 = 320;

/// An accepted type of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Media {
    pub content_type: &'static str,
    /// The decoder for a thumbnail; HEIC and PDF get none.
    pub thumbnail_from: Option<ImageFormat>,
    /// Whether the format can carry EXIF data.
    pub photo: bool,
}

/// The accepted type of a file from its first bytes (magic numbers); `None` for anything else.
pub fn detect(head: &[u8]) -> Option<Media> {
    let (content_type, thumbnail_from) = match infer::get(head)?.mime_type() {
        "image/jpeg" => ("image/jpeg", Some(ImageFormat::Jpeg)),
        "image/png" => ("image/png", Some(ImageFormat::Png)),
        "image/webp" => ("image/webp", Some(ImageFormat::WebP)),
        "image/heif" => ("image/heic", None),
        "application/pdf" => ("application/pdf", None),
        _ => return None,
    };
    Some(Media { content_type, thumbnail_from, photo: content_type != "application/pdf" })
}

/// What a photo tells about itself; every part is optional, a broken photo just tells less.
#[derive(Debug, Default)]
pub struct PhotoFacts {
    pub taken_at: Option<DateTime<Utc>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// A JPEG of at most `THUMBNAIL_MAX` pixels on its longest side.
    pub thumbnail: Option<Vec<u8>>,
}

/// Reads EXIF and makes the thumbnail. CPU-bound: run it on a blocking thread.
pub fn examine(bytes: &[u8], media: Media) -> PhotoFacts {
    let mut facts = PhotoFacts::default();
    if media.photo
        && let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes))
    {
        facts.taken_at = taken_at(&exif);
        facts.latitude = coordinate(&exif, Tag::GPSLatitude, Tag::GPSLatitudeRef, b'S', 90.0);
        facts.longitude = coordinate(&exif, Tag::GPSLongitude, Tag::GPSLongitudeRef, b'W', 180.0);
    }
    if let Some(format) = media.thumbnail_from {
        match thumbnail(bytes, format) {
            Ok(jpeg) => facts.thumbnail = Some(jpeg),
            Err(error) => tracing::warn!(error = %error, "no thumbnail for an upload that could not be decoded"),
        }
    }
    facts
}

fn ascii(exif: &exif::Exif, tag: Tag) -> Option<&[u8]> {
    match &exif.get_field(tag, In::PRIMARY)?.value {
        Value::Ascii(parts) => parts.first().map(Vec::as_slice),
        _ => None,
    }
}

/// `DateTimeOriginal` with `OffsetTimeOriginal` when present; without an offset the camera's
/// local time is read as UTC (EXIF does not say otherwise).
fn taken_at(exif: &exif::Exif) -> Option<DateTime<Utc>> {
    let time = exif::DateTime::from_ascii(ascii(exif, Tag::DateTimeOriginal)?).ok()?;
    let local = NaiveDate::from_ymd_opt(i32::from(time.year), u32::from(time.month), u32::from(time.day))?
        .and_hms_opt(u32::from(time.hour), u32::from(time.minute), u32::from(time.second))?;
    let offset = ascii(exif, Tag::OffsetTimeOriginal)
        .and_then(|raw| std::str::from_utf8(raw).ok())
        .and_then(|raw| {
            DateTime::parse_from_str(&format!("2000-01-01T00:00:00{}", raw.trim()), "%Y-%m-%dT%H:%M:%S%:z").ok()
        })
        .map_or_else(|| FixedOffset::east_opt(0), |parsed| Some(*parsed.offset()))?;
    Some(offset.from_local_datetime(&local).single()?.with_timezone(&Utc))
}

/// Degrees, minutes, seconds and a hemisphere letter to signed decimal degrees within `±limit`.
fn coordinate(exif: &exif::Exif, tag: Tag, reference: Tag, negative: u8, limit: f64) -> Option<f64> {
    let Value::Rational(parts) = &exif.get_field(tag, In::PRIMARY)?.value else { return None };
    let [degrees, minutes, seconds] = parts.as_slice() else { return None };
    let value = degrees.to_f64() + minutes.to_f64() / 60.0 + seconds.to_f64() / 3600.0;
    let sign = if ascii(exif, reference)?.first() == Some(&negative) { -1.0 } else { 1.0 };
    Some(value * sign).filter(|v| v.is_finite() && v.abs() <= limit)
}

fn thumbnail(bytes: &[u8], format: ImageFormat) -> image::ImageResult<Vec<u8>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // A small file can claim a huge canvas; bound what decoding may allocate.
    let mut limits = Limits::default();
    limits.max_image_width = Some(16_384);
    limits.max_image_height = Some(16_384);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let small = reader.decode()?.thumbnail(THUMBNAIL_MAX, THUMBNAIL_MAX).into_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80).encode_image(&small)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_magic_numbers() {
        assert_eq!(detect(b"%PDF-1.4\n").map(|m| m.content_type), Some("application/pdf"));
        assert_eq!(detect(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]).map(|m| m.content_type), Some("image/jpeg"));
        assert_eq!(detect(b"<!doctype html><html></html>"), None);
        assert_eq!(detect(b"GIF89a......"), None);
        let heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic";
        assert_eq!(detect(heic).map(|m| m.content_type), Some("image/heic"));
    }
}
