use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::{Json, Path, Query, typed_body};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use domain::api::service_types::{
    ImportSummary, ListServiceTypesQuery, ServiceTypeSpec, ServiceTypeView, UpdateServiceTypeRequest,
};
use domain::{ErrorBody, FieldErrors, Page, ServiceTypeId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The largest YAML document `POST /service-types/import` reads.
pub const IMPORT_MAX_BYTES: usize = 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_service_types, create_service_type))
        .routes(routes!(export_service_types))
        .routes(routes!(get_service_type, update_service_type))
        .routes(routes!(archive_service_type))
        .merge(
            OpenApiRouter::new().routes(routes!(import_service_types)).layer(DefaultBodyLimit::max(IMPORT_MAX_BYTES)),
        )
}

/// A YAML request body: 415 for another content type, 413 above the route's body limit.
#[derive(Debug)]
pub struct Yaml(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for Yaml {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let accepted = ["application/yaml", "text/yaml", "application/x-yaml"];
        typed_body(request, state, &accepted, IMPORT_MAX_BYTES).await.map(Yaml)
    }
}

/// Service types of the organization, oldest first, keyset-paged; archived ones on request.
#[utoipa::path(get, path = "/service-types", tag = "service-types", security(("bearer" = [])), params(ListServiceTypesQuery),
    responses((status = 200, body = Page<ServiceTypeView>)))]
async fn list_service_types(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ListServiceTypesQuery>,
) -> Result<axum::Json<Page<ServiceTypeView>>, AppError> {
    Ok(axum::Json(service::list(&state, &actor, &query).await?))
}

/// Creates a service type. Its required skills must be skills some technician has.
#[utoipa::path(post, path = "/service-types", tag = "service-types", security(("bearer" = [])), request_body = ServiceTypeSpec,
    responses((status = 201, body = ServiceTypeView), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid fields, an unknown skill, or `code_taken`", body = ErrorBody)))]
async fn create_service_type(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<ServiceTypeSpec>,
) -> Result<(StatusCode, axum::Json<ServiceTypeView>), AppError> {
    Ok((StatusCode::CREATED, axum::Json(service::create(&state, &actor, &body).await?)))
}

#[utoipa::path(get, path = "/service-types/{id}", tag = "service-types", security(("bearer" = [])), params(("id" = ServiceTypeId, Path)),
    responses((status = 200, body = ServiceTypeView), (status = 404, body = ErrorBody)))]
async fn get_service_type(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<ServiceTypeId>,
) -> Result<axum::Json<ServiceTypeView>, AppError> {
    Ok(axum::Json(service::get(&state, &actor, id).await?))
}

/// Changes a service type; given lists and objects replace the stored ones whole.
#[utoipa::path(patch, path = "/service-types/{id}", tag = "service-types", security(("bearer" = [])), params(("id" = ServiceTypeId, Path)),
    request_body = UpdateServiceTypeRequest,
    responses((status = 200, body = ServiceTypeView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_service_type(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<ServiceTypeId>,
    Json(body): Json<UpdateServiceTypeRequest>,
) -> Result<axum::Json<ServiceTypeView>, AppError> {
    Ok(axum::Json(service::update(&state, &actor, id, &body).await?))
}

/// Archives a service type: kept for the orders that used it, no longer offered or exported.
#[utoipa::path(post, path = "/service-types/{id}/archive", tag = "service-types", security(("bearer" = [])), params(("id" = ServiceTypeId, Path)),
    responses((status = 200, body = ServiceTypeView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn archive_service_type(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<ServiceTypeId>,
) -> Result<axum::Json<ServiceTypeView>, AppError> {
    Ok(axum::Json(service::archive(&state, &actor, id).await?))
}

/// The service types that are not archived as a YAML document (`version: 1`), sorted by code;
/// importing it back changes nothing.
#[utoipa::path(get, path = "/service-types/export", tag = "service-types", security(("bearer" = [])),
    responses((status = 200, description = "The YAML document", body = serde_json::Value, content_type = "application/yaml")))]
async fn export_service_types(State(state): State<AppState>, actor: Actor) -> Result<impl IntoResponse, AppError> {
    let document = service::export(&state, &actor).await?;
    let headers = [
        (header::CONTENT_TYPE, "application/yaml"),
        (header::CONTENT_DISPOSITION, "attachment; filename=\"service-types.yaml\""),
    ];
    Ok((headers, document))
}

/// Imports service types from a YAML document in the export's format: each is created, or updated
/// when its code exists. Nothing is written unless the whole document is valid; every problem is
/// reported under `details.fields`, keyed by its path in the document (`service_types[2].checklist[1].id`).
#[utoipa::path(post, path = "/service-types/import", tag = "service-types", security(("bearer" = [])),
    request_body(content = serde_json::Value, content_type = "application/yaml", description = "The YAML document, at most 1 MiB"),
    responses((status = 200, body = ImportSummary), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_service_types(
    State(state): State<AppState>,
    actor: Actor,
    Yaml(document): Yaml,
) -> Result<axum::Json<ImportSummary>, AppError> {
    Ok(axum::Json(service::import(&state, &actor, &document).await?))
}

/// How this area's errors answer over HTTP.
impl From<super::ServiceTypeError> for AppError {
    fn from(error: super::ServiceTypeError) -> Self {
        use super::ServiceTypeError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("service type"),
            E::CodeTaken => Self::validation(FieldErrors::single(
                "code",
                domain::FieldError::new("code_taken", "another service type of the organization has this code"),
            )),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
