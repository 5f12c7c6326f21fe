use super::service;
use crate::actor::Actor;
use crate::error::AppError;
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::ErrorCode;
use domain::api::webhooks::{
    CreateWebhookRequest, ListWebhooksQuery, PingResult, UpdateWebhookRequest, WebhookEndpointView,
    WebhookEndpointWithSecret,
};
use domain::{ErrorBody, Page, WebhookEndpointId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(ping))
}

/// The organization's webhook endpoints, oldest first, keyset-paged. Secrets are never listed.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", security(("bearer" = [])), params(ListWebhooksQuery),
    responses((status = 200, body = Page<WebhookEndpointView>), (status = 403, body = ErrorBody)))]
async fn list_webhooks(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ListWebhooksQuery>,
) -> Result<axum::Json<Page<WebhookEndpointView>>, AppError> {
    Ok(axum::Json(service::list(&state, &actor, &query).await?))
}

/// Registers an endpoint. The answer carries its signing secret, shown this once.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", security(("bearer" = [])), request_body = CreateWebhookRequest,
    responses((status = 201, body = WebhookEndpointWithSecret), (status = 403, body = ErrorBody),
        (status = 422, description = "invalid fields, or `webhook_limit_reached`", body = ErrorBody)))]
async fn create_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<CreateWebhookRequest>,
) -> Result<(StatusCode, axum::Json<WebhookEndpointWithSecret>), AppError> {
    Ok((StatusCode::CREATED, axum::Json(service::create(&state, &actor, &body).await?)))
}

#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = WebhookEndpointId, Path)),
    responses((status = 200, body = WebhookEndpointView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<WebhookEndpointId>,
) -> Result<axum::Json<WebhookEndpointView>, AppError> {
    Ok(axum::Json(service::get(&state, &actor, id).await?))
}

/// Changes an endpoint; absent fields stay, `description: null` clears it.
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = WebhookEndpointId, Path)), request_body = UpdateWebhookRequest,
    responses((status = 200, body = WebhookEndpointView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<WebhookEndpointId>,
    Json(body): Json<UpdateWebhookRequest>,
) -> Result<axum::Json<WebhookEndpointView>, AppError> {
    Ok(axum::Json(service::update(&state, &actor, id, &body).await?))
}

/// Deletes an endpoint; deliveries still queued for it fail for good.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = [])),
    params(("id" = WebhookEndpointId, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_webhook(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<WebhookEndpointId>,
) -> Result<StatusCode, AppError> {
    service::delete(&state, &actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replaces the signing secret at once and answers the new one, shown this once; the old one stops
/// verifying.
#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "webhooks", security(("bearer" = [])),
    params(("id" = WebhookEndpointId, Path)),
    responses((status = 200, body = WebhookEndpointWithSecret), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn rotate_secret(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<WebhookEndpointId>,
) -> Result<axum::Json<WebhookEndpointWithSecret>, AppError> {
    Ok(axum::Json(service::rotate_secret(&state, &actor, id).await?))
}

/// Sends a signed `ping` event now (at most 10 s) and reports how the receiver answered. A failed
/// ping is an answer (`delivered: false`), not an error.
#[utoipa::path(post, path = "/webhooks/{id}/ping", tag = "webhooks", security(("bearer" = [])),
    params(("id" = WebhookEndpointId, Path)),
    responses((status = 200, body = PingResult), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn ping(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<WebhookEndpointId>,
) -> Result<axum::Json<PingResult>, AppError> {
    Ok(axum::Json(service::ping(&state, &actor, id).await?))
}

/// How this area's errors answer over HTTP.
impl From<super::EndpointError> for AppError {
    fn from(error: super::EndpointError) -> Self {
        use super::EndpointError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("webhook endpoint"),
            E::LimitReached => Self::new(ErrorCode::WebhookLimitReached, error.to_string()),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
