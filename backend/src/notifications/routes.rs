use super::service;
use crate::actor::UserActor;
use crate::error::AppError;
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::api::notifications::{
    DeliveryView, ListDeliveriesQuery, ListNotificationsQuery, ListTemplatesQuery, NotificationPreferences,
    NotificationView, PreviewTemplate, PutTemplate, RenderedMessage, TemplateView, UnreadCount,
    UpdateNotificationPreferences,
};
use domain::{ErrorBody, Locale, NotificationId, Page};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(unread_count))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
        .routes(routes!(get_preferences, update_preferences))
        .routes(routes!(list_templates))
        .routes(routes!(put_template, delete_template))
        .routes(routes!(preview_template))
        .routes(routes!(list_deliveries))
        .routes(routes!(redrive_delivery))
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

/// The caller's notification choices: every notified event kind on every personal channel, and
/// quiet hours.
#[utoipa::path(get, path = "/me/notification-preferences", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = NotificationPreferences), (status = 401, body = ErrorBody)))]
async fn get_preferences(
    State(state): State<AppState>,
    user: UserActor,
) -> Result<axum::Json<NotificationPreferences>, AppError> {
    Ok(axum::Json(service::preferences(&state, &user).await?))
}

/// Changes some of the caller's choices; answers all of them.
#[utoipa::path(patch, path = "/me/notification-preferences", tag = "notifications", security(("bearer" = [])),
    request_body = UpdateNotificationPreferences,
    responses((status = 200, body = NotificationPreferences), (status = 422, body = ErrorBody)))]
async fn update_preferences(
    State(state): State<AppState>,
    user: UserActor,
    Json(body): Json<UpdateNotificationPreferences>,
) -> Result<axum::Json<NotificationPreferences>, AppError> {
    Ok(axum::Json(service::update_preferences(&state, &user, &body).await?))
}

/// The message templates in effect (admins): the organization's own, or the shipped text. At most
/// one per event kind and language, so the list is bounded without paging.
#[utoipa::path(get, path = "/notification-templates", tag = "notifications", security(("bearer" = [])),
    params(ListTemplatesQuery),
    responses((status = 200, body = Vec<TemplateView>), (status = 403, body = ErrorBody)))]
async fn list_templates(
    State(state): State<AppState>,
    user: UserActor,
    Query(query): Query<ListTemplatesQuery>,
) -> Result<axum::Json<Vec<TemplateView>>, AppError> {
    Ok(axum::Json(service::list_templates(&state, &user, &query).await?))
}

/// Sets the organization's own wording of one kind in one language (admins). It must render with
/// the documented placeholders.
#[utoipa::path(put, path = "/notification-templates/{kind}/{locale}", tag = "notifications", security(("bearer" = [])),
    params(("kind" = String, Path), ("locale" = Locale, Path)), request_body = PutTemplate,
    responses((status = 200, body = TemplateView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_template(
    State(state): State<AppState>,
    user: UserActor,
    Path((kind, locale)): Path<(String, Locale)>,
    Json(body): Json<PutTemplate>,
) -> Result<axum::Json<TemplateView>, AppError> {
    Ok(axum::Json(service::put_template(&state, &user, &kind, locale, &body).await?))
}

/// Goes back to the shipped wording of one kind in one language (admins).
#[utoipa::path(delete, path = "/notification-templates/{kind}/{locale}", tag = "notifications", security(("bearer" = [])),
    params(("kind" = String, Path), ("locale" = Locale, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_template(
    State(state): State<AppState>,
    user: UserActor,
    Path((kind, locale)): Path<(String, Locale)>,
) -> Result<StatusCode, AppError> {
    service::delete_template(&state, &user, &kind, locale).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Renders a template, or a draft, as subject, text and HTML (admins).
#[utoipa::path(post, path = "/notification-templates/preview", tag = "notifications", security(("bearer" = [])),
    request_body = PreviewTemplate,
    responses((status = 200, body = RenderedMessage), (status = 403, body = ErrorBody),
        (status = 404, description = "`not_found`: no such `order_id` in the organization", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn preview_template(
    State(state): State<AppState>,
    user: UserActor,
    Json(body): Json<PreviewTemplate>,
) -> Result<axum::Json<RenderedMessage>, AppError> {
    Ok(axum::Json(service::preview(&state, &user, &body).await?))
}

/// The delivery log (admins): every Telegram message, email and webhook call, newest first, with
/// status, attempts and the last error. `status=dead` lists the dead letters.
#[utoipa::path(get, path = "/notification-deliveries", tag = "notifications", security(("bearer" = [])),
    params(ListDeliveriesQuery),
    responses((status = 200, body = Page<DeliveryView>), (status = 403, body = ErrorBody)))]
async fn list_deliveries(
    State(state): State<AppState>,
    user: UserActor,
    Query(query): Query<ListDeliveriesQuery>,
) -> Result<axum::Json<Page<DeliveryView>>, AppError> {
    Ok(axum::Json(service::delivery_log(&state, &user, &query).await?))
}

/// Sends a dead delivery again with a fresh set of attempts (admins).
#[utoipa::path(post, path = "/notification-deliveries/{id}/redrive", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 202), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn redrive_delivery(
    State(state): State<AppState>,
    user: UserActor,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, AppError> {
    service::redrive(&state, &user, id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// How this area's errors answer over HTTP.
impl From<super::NotificationError> for AppError {
    fn from(error: super::NotificationError) -> Self {
        use super::NotificationError as E;
        match error {
            E::NotFound(what) => Self::not_found(what),
            E::Forbidden(_) => Self::forbidden(),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
