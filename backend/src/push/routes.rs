use super::service;
use crate::actor::UserActor;
use crate::error::AppError;
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use domain::ErrorCode;
use domain::api::push::{ListPushSubscriptionsQuery, PushSubscriptionRequest, PushSubscriptionView, VapidPublicKey};
use domain::{ErrorBody, Page, PushSubscriptionId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vapid_public_key))
        .routes(routes!(list_subscriptions, subscribe))
        .routes(routes!(unsubscribe))
}

/// The server's VAPID public key, the `applicationServerKey` of `pushManager.subscribe`.
#[utoipa::path(get, path = "/push/vapid-public-key", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = VapidPublicKey), (status = 401, body = ErrorBody),
        (status = 503, description = "web push is not configured on this server", body = ErrorBody)))]
async fn vapid_public_key(
    State(state): State<AppState>,
    _user: UserActor,
) -> Result<axum::Json<VapidPublicKey>, AppError> {
    Ok(axum::Json(service::public_key(&state)?))
}

/// The caller's subscribed browsers, oldest first, keyset-paged.
#[utoipa::path(get, path = "/me/push-subscriptions", tag = "push", security(("bearer" = [])),
    params(ListPushSubscriptionsQuery),
    responses((status = 200, body = Page<PushSubscriptionView>), (status = 401, body = ErrorBody)))]
async fn list_subscriptions(
    State(state): State<AppState>,
    user: UserActor,
    Query(query): Query<ListPushSubscriptionsQuery>,
) -> Result<axum::Json<Page<PushSubscriptionView>>, AppError> {
    Ok(axum::Json(service::list(&state, &user, &query).await?))
}

/// Subscribes the caller's browser: the body is its `PushSubscription.toJSON()`. The same endpoint
/// again updates its keys (200). A person keeps at most 10 browsers; the one heard from least
/// recently is forgotten for an 11th.
#[utoipa::path(post, path = "/me/push-subscriptions", tag = "push", security(("bearer" = [])),
    request_body = PushSubscriptionRequest,
    responses((status = 201, body = PushSubscriptionView), (status = 200, body = PushSubscriptionView),
        (status = 422, body = ErrorBody), (status = 503, description = "web push is not configured", body = ErrorBody)))]
async fn subscribe(
    State(state): State<AppState>,
    user: UserActor,
    headers: HeaderMap,
    Json(body): Json<PushSubscriptionRequest>,
) -> Result<(StatusCode, axum::Json<PushSubscriptionView>), AppError> {
    let user_agent = headers.get(header::USER_AGENT).and_then(|value| value.to_str().ok());
    let (view, created) = service::subscribe(&state, &user, &body, user_agent).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, axum::Json(view)))
}

/// Forgets one of the caller's browsers (the web app calls this when push is turned off there).
#[utoipa::path(delete, path = "/me/push-subscriptions/{id}", tag = "push", security(("bearer" = [])),
    params(("id" = PushSubscriptionId, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn unsubscribe(
    State(state): State<AppState>,
    user: UserActor,
    Path(id): Path<PushSubscriptionId>,
) -> Result<StatusCode, AppError> {
    service::unsubscribe(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How this area's errors answer over HTTP.
impl From<super::PushError> for AppError {
    fn from(error: super::PushError) -> Self {
        use super::PushError as E;
        match error {
            E::NotConfigured => Self::new(ErrorCode::ServiceUnavailable, error.to_string()),
            E::NotFound => Self::not_found("push subscription"),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
