use super::service::{self, Download};
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::{Channel, Path, Query};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::api::attachments::{AttachmentView, ListAttachmentsQuery, UploadQuery};
use domain::{AttachmentId, ErrorBody, ErrorCode, OrderId, Page};
use http_body_util::Limited;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Room for the multipart framing around the file: boundaries and part headers.
const MULTIPART_OVERHEAD_BYTES: u64 = 64 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_attachments))
        .routes(routes!(download_attachment))
        .routes(routes!(download_thumbnail))
        // Uploads are bounded by `FIELDFLOW_MAX_UPLOAD_BYTES` (see `Upload`), not by the JSON limit.
        .merge(OpenApiRouter::new().routes(routes!(upload_attachment)).layer(DefaultBodyLimit::disable()))
}

/// A `multipart/form-data` body, cut off a little above the upload limit so a client cannot
/// stream endless framing or extra parts.
#[derive(Debug)]
pub struct Upload(pub Multipart);

impl FromRequest<AppState> for Upload {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, AppError> {
        let limit = state.settings.max_upload_bytes.saturating_add(MULTIPART_OVERHEAD_BYTES);
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let request = request.map(|body| Body::new(Limited::new(body, limit)));
        Multipart::from_request(request, state).await.map(Upload).map_err(|rejection| {
            AppError::new(ErrorCode::UnsupportedMediaType, format!("expected a multipart/form-data body: {rejection}"))
        })
    }
}

/// The order's files, oldest first, keyset-paged.
#[utoipa::path(get, path = "/orders/{id}/attachments", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path), ListAttachmentsQuery),
    responses((status = 200, body = Page<AttachmentView>), (status = 404, body = ErrorBody)))]
async fn list_attachments(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<OrderId>,
    Query(query): Query<ListAttachmentsQuery>,
) -> Result<axum::Json<Page<AttachmentView>>, AppError> {
    Ok(axum::Json(service::list(&state, &actor, id, &query).await?))
}

/// Uploads one file as the multipart part `file`. Its type is told by its bytes: JPEG, PNG, WebP,
/// HEIC or PDF (415 otherwise); at most `FIELDFLOW_MAX_UPLOAD_BYTES` (413). Managers read only.
#[utoipa::path(post, path = "/orders/{id}/attachments", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path), UploadQuery),
    request_body(content_type = "multipart/form-data", description = "one part named `file`"),
    responses((status = 201, body = AttachmentView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_attachment(
    State(state): State<AppState>,
    actor: Actor,
    channel: Channel,
    Path(id): Path<OrderId>,
    Query(query): Query<UploadQuery>,
    Upload(multipart): Upload,
) -> Result<(StatusCode, axum::Json<AttachmentView>), AppError> {
    let view = service::upload(&state, &actor, id, query.kind, multipart, channel.0).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

/// The file's bytes, with the type detected at upload.
#[utoipa::path(get, path = "/orders/{id}/attachments/{attachment_id}", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path), ("attachment_id" = AttachmentId, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)))]
async fn download_attachment(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, attachment)): Path<(OrderId, AttachmentId)>,
) -> Result<Response, AppError> {
    Ok(respond(service::download(&state, &actor, id, attachment, false).await?, "attachment"))
}

/// A JPEG of at most 320 pixels on its longest side; 404 for files without one (HEIC, PDF).
#[utoipa::path(get, path = "/orders/{id}/attachments/{attachment_id}/thumbnail", tag = "orders",
    security(("bearer" = [])), params(("id" = OrderId, Path), ("attachment_id" = AttachmentId, Path)),
    responses((status = 200, description = "the thumbnail", content_type = "image/jpeg"), (status = 404, body = ErrorBody)))]
async fn download_thumbnail(
    State(state): State<AppState>,
    actor: Actor,
    Path((id, attachment)): Path<(OrderId, AttachmentId)>,
) -> Result<Response, AppError> {
    Ok(respond(service::download(&state, &actor, id, attachment, true).await?, "inline"))
}

pub(crate) fn respond(download: Download, disposition: &str) -> Response {
    let content_type =
        HeaderValue::from_str(&download.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let disposition = content_disposition(disposition, &download.file_name);
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (header::CONTENT_LENGTH, HeaderValue::from(download.size)),
        (header::CONTENT_DISPOSITION, disposition),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600")),
    ];
    (headers, Body::from_stream(download.body)).into_response()
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266), so every browser
/// gets a usable name and no name can break out of the header.
fn content_disposition(disposition: &str, file_name: &str) -> HeaderValue {
    let ascii: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for byte in file_name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    HeaderValue::from_str(&format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"))
        .unwrap_or(HeaderValue::from_static("attachment"))
}

/// How this area's errors answer over HTTP.
impl From<super::AttachmentError> for AppError {
    fn from(error: super::AttachmentError) -> Self {
        use super::AttachmentError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("attachment or order"),
            E::Invalid(errors) => Self::validation(errors),
            E::TooLarge { .. } => Self::new(ErrorCode::PayloadTooLarge, error.to_string()),
            E::UnsupportedType => Self::new(ErrorCode::UnsupportedMediaType, error.to_string()),
            E::Malformed(_) => Self::new(ErrorCode::BadRequest, error.to_string()),
            E::Internal(_) => Self::internal(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_break_the_header() {
        let value = content_disposition("attachment", "фото \"1\".jpg\r\nX: y");
        let value = value.to_str().unwrap_or_default();
        assert!(value.starts_with("attachment; filename=\"____ _1_.jpg__X: y\"; filename*=UTF-8''"), "{value}");
        assert!(value.ends_with("%22.jpg%0D%0AX%3A%20y"), "{value}");
    }
}
