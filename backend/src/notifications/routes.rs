use super::service;
use crate::actor::UserActor;
use crate::error::AppError;
use crate::http::extract::{Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::api::notifications::{ListNotificationsQuery, NotificationView, UnreadCount};
use domain::{ErrorBody, NotificationId, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(unread_count))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
}

/// The caller's in-app notifications, newest first, keyset-paged.
#[utoipa::path(get, path = "/notifications", tag = "notifications", security(("bearer" = [])),
    params(ListNotificationsQuery), responses((status = 200, body = Page<NotificationView>), (status = 401, body = ErrorBody)))]
async fn list_notifications(
    State(state): State<AppState>,
    user: UserActor,
    Query(query): Query<ListNotificationsQuery>,
) -> Result<axum::Json<Page<NotificationView>>, AppError> {
    Ok(axum::Json(service::inbox(&state, &user, &query).await?))
}

/// How many of the caller's notifications are unread.
#[utoipa::path(get, path = "/notifications/unread-count", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401, body = ErrorBody)))]
async fn unread_count(State(state): State<AppState>, user: UserActor) -> Result<axum::Json<UnreadCount>, AppError> {
    Ok(axum::Json(service::unread(&state, &user).await?))
}

/// Marks one of the caller's notifications read.
#[utoipa::path(post, path = "/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = NotificationId, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
async fn mark_read(
    State(state): State<AppState>,
    user: UserActor,
    Path(id): Path<NotificationId>,
) -> Result<StatusCode, AppError> {
    service::mark_read(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks all of the caller's notifications read; answers the unread count (zero).
#[utoipa::path(post, path = "/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = UnreadCount), (status = 401, body = ErrorBody)))]
async fn mark_all_read(State(state): State<AppState>, user: UserActor) -> Result<axum::Json<UnreadCount>, AppError> {
    Ok(axum::Json(service::mark_all_read(&state, &user).await?))
}
