//! Files attached to an order: photos before and after the work, the customer's signature, documents.

use crate::{AttachmentId, Cursor, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the file shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "attachment_kind", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Before,
    After,
    Other,
    Signature,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentView {
    pub id: AttachmentId,
    pub kind: AttachmentKind,
    pub file_name: String,
    /// Detected from the bytes, never taken from the client.
    pub content_type: String,
    pub size_bytes: i64,
    /// Hex SHA-256 of the stored bytes.
    pub sha256: String,
    pub has_thumbnail: bool,
    /// When the photo was taken, from its EXIF data (the camera's local time, read as UTC).
    pub taken_at: Option<DateTime<Utc>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub uploaded_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

/// Query of `POST /orders/{id}/attachments`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    pub kind: AttachmentKind,
}

/// Query of `GET /orders/{id}/attachments`: oldest first, after the cursor.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListAttachmentsQuery {
    pub kind: Option<AttachmentKind>,
    pub cursor: Option<Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}
