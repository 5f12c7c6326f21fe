use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::api::scheduling::{
    CreateRecurringPlanRequest, GenerationReport, RecurringPlanView, RecurringPlansQuery, UpdateRecurringPlanRequest,
};
use domain::{ErrorBody, Page, RecurringPlanId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plans, create_plan))
        .routes(routes!(get_plan, update_plan))
        .routes(routes!(generate_orders))
}

#[utoipa::path(get, path = "/recurring-plans", tag = "recurring", security(("bearer" = [])), params(RecurringPlansQuery),
    responses((status = 200, body = Page<RecurringPlanView>), (status = 403, body = ErrorBody)))]
async fn list_plans(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<RecurringPlansQuery>,
) -> Result<axum::Json<Page<RecurringPlanView>>, AppError> {
    Ok(axum::Json(service::list(&state, &actor, &query).await?))
}

/// A maintenance plan: an RRULE in local time at a customer's site; orders are generated ahead.
#[utoipa::path(post, path = "/recurring-plans", tag = "recurring", security(("bearer" = [])),
    request_body = CreateRecurringPlanRequest,
    responses((status = 201, body = RecurringPlanView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_plan(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<CreateRecurringPlanRequest>,
) -> Result<(StatusCode, axum::Json<RecurringPlanView>), AppError> {
    Ok((StatusCode::CREATED, axum::Json(service::create(&state, &actor, &body).await?)))
}

#[utoipa::path(get, path = "/recurring-plans/{id}", tag = "recurring", security(("bearer" = [])),
    params(("id" = RecurringPlanId, Path)), responses((status = 200, body = RecurringPlanView), (status = 404, body = ErrorBody)))]
async fn get_plan(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<RecurringPlanId>,
) -> Result<axum::Json<RecurringPlanView>, AppError> {
    Ok(axum::Json(service::get(&state, &actor, id).await?))
}

/// Pauses or resumes a plan, or changes its technician or title.
#[utoipa::path(patch, path = "/recurring-plans/{id}", tag = "recurring", security(("bearer" = [])),
    params(("id" = RecurringPlanId, Path)), request_body = UpdateRecurringPlanRequest,
    responses((status = 200, body = RecurringPlanView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_plan(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<RecurringPlanId>,
    Json(body): Json<UpdateRecurringPlanRequest>,
) -> Result<axum::Json<RecurringPlanView>, AppError> {
    Ok(axum::Json(service::update(&state, &actor, id, &body).await?))
}

/// Generates the orders of the organization's plans up to its horizon now, instead of waiting for
/// the periodic run; running it again creates nothing new.
#[utoipa::path(post, path = "/recurring-plans/generate", tag = "recurring", security(("bearer" = [])),
    responses((status = 200, body = GenerationReport), (status = 403, body = ErrorBody)))]
async fn generate_orders(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<GenerationReport>, AppError> {
    Ok(axum::Json(service::generate_now(&state, &actor).await?))
}
