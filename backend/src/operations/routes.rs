use super::import::IMPORT_MAX_BYTES;
use super::{service, stream};
use crate::actor::UserActor;
use crate::attachments::routes::respond;
use crate::error::AppError;
use crate::http::extract::{Json, Path, Query, bearer_token, typed_body};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use domain::ErrorCode;
use domain::api::operations::{
    BroadcastRequest, ExportOrdersRequest, ListOperationsQuery, OperationStreamQuery, OperationView,
};
use domain::{ErrorBody, OperationId, Page};
use futures_util::{Stream, StreamExt};
use std::time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_operations))
        .routes(routes!(get_operation))
        .routes(routes!(cancel_operation))
        .routes(routes!(operation_file))
        .routes(routes!(operation_events))
        .routes(routes!(export_orders))
        .routes(routes!(broadcast))
        .merge(OpenApiRouter::new().routes(routes!(import_customers)).layer(DefaultBodyLimit::max(IMPORT_MAX_BYTES)))
}

/// A CSV request body: 415 for another content type, 413 above the import's limit.
#[derive(Debug)]
pub struct CsvBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        typed_body(request, state, &["text/csv", "application/csv"], IMPORT_MAX_BYTES).await.map(CsvBody)
    }
}

type Accepted = (StatusCode, axum::Json<OperationView>);

/// Operations the caller started (admins: every one of the organization), newest first.
#[utoipa::path(get, path = "/operations", tag = "operations", security(("bearer" = [])), params(ListOperationsQuery),
    responses((status = 200, body = Page<OperationView>), (status = 400, body = ErrorBody)))]
async fn list_operations(
    State(state): State<AppState>,
    user: UserActor,
    Query(query): Query<ListOperationsQuery>,
) -> Result<axum::Json<Page<OperationView>>, AppError> {
    Ok(axum::Json(service::list(&state, &user, &query).await?))
}

#[utoipa::path(get, path = "/operations/{id}", tag = "operations", security(("bearer" = [])),
    params(("id" = OperationId, Path)), responses((status = 200, body = OperationView), (status = 404, body = ErrorBody)))]
async fn get_operation(
    State(state): State<AppState>,
    user: UserActor,
    Path(id): Path<OperationId>,
) -> Result<axum::Json<OperationView>, AppError> {
    Ok(axum::Json(service::get(&state, &user, id).await?))
}

/// Asks the operation to stop: at once when it has not started, otherwise before its next chunk
/// (what was done stays done; a broadcast's unsent messages are withdrawn). 409 once finished.
#[utoipa::path(post, path = "/operations/{id}/cancel", tag = "operations", security(("bearer" = [])),
    params(("id" = OperationId, Path)),
    responses((status = 200, body = OperationView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel_operation(
    State(state): State<AppState>,
    user: UserActor,
    Path(id): Path<OperationId>,
) -> Result<axum::Json<OperationView>, AppError> {
    Ok(axum::Json(service::cancel(&state, &user, id).await?))
}

/// The CSV file an export made, until `result.file.expires_at` (404 `operation_file_gone` before
/// it is made and after it expired).
#[utoipa::path(get, path = "/operations/{id}/file", tag = "operations", security(("bearer" = [])),
    params(("id" = OperationId, Path)),
    responses((status = 200, description = "the file", content_type = "text/csv"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn operation_file(
    State(state): State<AppState>,
    user: UserActor,
    Path(id): Path<OperationId>,
) -> Result<Response, AppError> {
    Ok(respond(service::file(&state, &user, id).await?, "attachment"))
}

/// The operation's progress as Server-Sent Events (`event: progress`, `data:` the operation): its
/// state at once, then each change; the stream ends after the final status. `EventSource` cannot
/// send headers, so the access token may come as `?access_token=` instead.
#[utoipa::path(get, path = "/operations/{id}/events", tag = "operations", security(("bearer" = [])),
    params(("id" = OperationId, Path), OperationStreamQuery),
    responses((status = 200, content_type = "text/event-stream", body = OperationView),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn operation_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<OperationId>,
    Query(query): Query<OperationStreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, axum::Error>>>, AppError> {
    let token = bearer_token(&headers).or(query.access_token.as_deref());
    let progress = stream::open(&state, token, id).await?;
    let events = progress.map(|operation| Event::default().event("progress").json_data(&operation));
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Exports the orders matching the filters of `GET /orders` (all of them, in `sort` order, oldest
/// first by default) as a CSV file; follow the operation, then download `GET /operations/{id}/file`.
#[utoipa::path(post, path = "/operations/exports/orders", tag = "operations", security(("bearer" = [])),
    request_body = ExportOrdersRequest,
    responses((status = 202, body = OperationView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export_orders(
    State(state): State<AppState>,
    user: UserActor,
    Json(body): Json<ExportOrdersRequest>,
) -> Result<Accepted, AppError> {
    Ok((StatusCode::ACCEPTED, axum::Json(service::export_orders(&state, &user, &body).await?)))
}

/// Imports customers from a CSV file (UTF-8, comma-separated, a header row; at most 2 MiB and
/// 20,000 rows). Columns: `name` (required), `kind` (`person` by default or `company`), `phones`
/// (separated by `;`), `email`, `tax_id`, `notes`, `preferred_channel`, and one site: `address`,
/// `site_label`, `access_notes`, `zone`. The file is refused whole (422 under `file`) when it is
/// not such a file; each row is then checked as `POST /customers` checks, valid rows are created,
/// and the others are reported in `result.errors` (line, column, code).
#[utoipa::path(post, path = "/operations/imports/customers", tag = "operations", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", description = "The CSV file, at most 2 MiB"),
    responses((status = 202, body = OperationView), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_customers(
    State(state): State<AppState>,
    user: UserActor,
    CsvBody(file): CsvBody,
) -> Result<Accepted, AppError> {
    Ok((StatusCode::ACCEPTED, axum::Json(service::import_customers(&state, &user, &file).await?)))
}

/// Sends a text to technicians: every active one, those in `technician_ids`, or those serving
/// `zone` (both: the named ones serving it), in-app and on Telegram or by email as each chose;
/// each is told once. Admins and dispatchers.
#[utoipa::path(post, path = "/operations/broadcasts", tag = "operations", security(("bearer" = [])),
    request_body = BroadcastRequest,
    responses((status = 202, body = OperationView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn broadcast(
    State(state): State<AppState>,
    user: UserActor,
    Json(body): Json<BroadcastRequest>,
) -> Result<Accepted, AppError> {
    Ok((StatusCode::ACCEPTED, axum::Json(service::broadcast(&state, &user, &body).await?)))
}

/// How this area's errors answer over HTTP.
impl From<super::OperationError> for AppError {
    fn from(error: super::OperationError) -> Self {
        use super::OperationError as E;
        match error {
            E::Auth(error) => error.into(),
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("operation"),
            E::Finished(status) => Self::new(ErrorCode::OperationFinished, error.to_string())
                .with_details(serde_json::json!({ "status": status })),
            E::FileGone(_) => Self::new(ErrorCode::OperationFileGone, error.to_string()),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
