use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::api::technicians::{
    CreateTechnicianRequest, ListTechniciansQuery, TechnicianView, UpdateTechnicianRequest,
};
use domain::{ErrorBody, Page, UserId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_technicians, create_technician))
        .routes(routes!(get_technician, update_technician))
}

/// Technicians of the organization, keyset-paged; filter by status, skill or zone.
#[utoipa::path(get, path = "/technicians", tag = "technicians", security(("bearer" = [])), params(ListTechniciansQuery),
    responses((status = 200, body = Page<TechnicianView>), (status = 403, body = ErrorBody)))]
async fn list_technicians(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ListTechniciansQuery>,
) -> Result<axum::Json<Page<TechnicianView>>, AppError> {
    Ok(axum::Json(service::list(&state, &actor, &query).await?))
}

/// Creates a technician: a user with the technician role and their profile.
#[utoipa::path(post, path = "/technicians", tag = "technicians", security(("bearer" = [])), request_body = CreateTechnicianRequest,
    responses((status = 201, body = TechnicianView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_technician(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<CreateTechnicianRequest>,
) -> Result<(StatusCode, axum::Json<TechnicianView>), AppError> {
    Ok((StatusCode::CREATED, axum::Json(service::create(&state, &actor, &body).await?)))
}

#[utoipa::path(get, path = "/technicians/{id}", tag = "technicians", security(("bearer" = [])), params(("id" = UserId, Path)),
    responses((status = 200, body = TechnicianView), (status = 404, body = ErrorBody)))]
async fn get_technician(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<UserId>,
) -> Result<axum::Json<TechnicianView>, AppError> {
    Ok(axum::Json(service::get(&state, &actor, id).await?))
}

/// Changes a technician's skills, zones, rate, capacity, working hours or colour.
#[utoipa::path(patch, path = "/technicians/{id}", tag = "technicians", security(("bearer" = [])), params(("id" = UserId, Path)),
    request_body = UpdateTechnicianRequest, responses((status = 200, body = TechnicianView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_technician(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<UserId>,
    Json(body): Json<UpdateTechnicianRequest>,
) -> Result<axum::Json<TechnicianView>, AppError> {
    Ok(axum::Json(service::update(&state, &actor, id, &body).await?))
}
