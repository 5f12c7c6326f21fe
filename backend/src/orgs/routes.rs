use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::Json;
use crate::state::AppState;
use axum::extract::State;
use domain::ErrorBody;
use domain::api::org::{OrgView, UpdateOrgRequest};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_org, update_org))
}

/// The caller's organization: name, time zone, language and currency.
#[utoipa::path(get, path = "/org", tag = "org", security(("bearer" = [])), responses((status = 200, body = OrgView), (status = 401, body = ErrorBody)))]
async fn get_org(State(state): State<AppState>, actor: Actor) -> Result<axum::Json<OrgView>, AppError> {
    Ok(axum::Json(service::get(&state, &actor).await?))
}

/// Changes the organization's settings (admin).
#[utoipa::path(patch, path = "/org", tag = "org", security(("bearer" = [])), request_body = UpdateOrgRequest,
    responses((status = 200, body = OrgView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_org(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<UpdateOrgRequest>,
) -> Result<axum::Json<OrgView>, AppError> {
    Ok(axum::Json(service::update(&state, &actor, &body).await?))
}
