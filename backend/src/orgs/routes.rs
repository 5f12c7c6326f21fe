use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::Json;
use crate::state::AppState;
use axum::extract::State;
use domain::api::org::{OrgView, UpdateOrgRequest};
use domain::{ErrorBody, FieldErrors};
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

/// How this area's errors answer over HTTP.
impl From<super::OrgError> for AppError {
    fn from(error: super::OrgError) -> Self {
        use super::OrgError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("organization"),
            E::NameTaken => Self::validation(FieldErrors::single(
                "name",
                domain::FieldError::new("name_taken", "another organization already has this name"),
            )),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
