use super::service;
use crate::actor::{Actor, UserActor};
use crate::error::AppError;
use crate::http::extract::{Json, Path, Query};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::ErrorCode;
use domain::api::users::{CreateUserRequest, ListUsersQuery, UpdateMeRequest, UpdateUserRequest, UserView};
use domain::{ErrorBody, Page, UserId, UserStatus};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_me, update_me))
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user))
        .routes(routes!(disable_user))
        .routes(routes!(enable_user))
}

/// The signed-in user.
#[utoipa::path(get, path = "/me", tag = "me", security(("bearer" = [])), responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
async fn get_me(State(state): State<AppState>, actor: UserActor) -> Result<axum::Json<UserView>, AppError> {
    Ok(axum::Json(service::me(&state, &actor).await?))
}

/// Changes the caller's name, phone, language or time zone.
#[utoipa::path(patch, path = "/me", tag = "me", security(("bearer" = [])), request_body = UpdateMeRequest,
    responses((status = 200, body = UserView), (status = 422, body = ErrorBody)))]
async fn update_me(
    State(state): State<AppState>,
    actor: UserActor,
    Json(body): Json<UpdateMeRequest>,
) -> Result<axum::Json<UserView>, AppError> {
    Ok(axum::Json(service::update_me(&state, &actor, &body).await?))
}

/// Users of the organization, oldest first, keyset-paged.
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])), params(ListUsersQuery),
    responses((status = 200, body = Page<UserView>), (status = 403, body = ErrorBody)))]
async fn list_users(
    State(state): State<AppState>,
    actor: Actor,
    Query(query): Query<ListUsersQuery>,
) -> Result<axum::Json<Page<UserView>>, AppError> {
    Ok(axum::Json(service::list(&state, &actor, &query).await?))
}

/// Creates a user. Without a password, they get an invitation email to choose one.
#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 409, description = "`email_taken`", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    Json(body): Json<CreateUserRequest>,
) -> Result<(StatusCode, axum::Json<UserView>), AppError> {
    Ok((StatusCode::CREATED, axum::Json(service::create(&state, &actor, &body).await?)))
}

#[utoipa::path(get, path = "/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = UserId, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<UserId>,
) -> Result<axum::Json<UserView>, AppError> {
    Ok(axum::Json(service::get(&state, &actor, id).await?))
}

/// Changes a user's profile or role.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", security(("bearer" = [])), params(("id" = UserId, Path)), request_body = UpdateUserRequest,
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody), (status = 409, description = "`last_admin`", body = ErrorBody)))]
async fn update_user(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<UserId>,
    Json(body): Json<UpdateUserRequest>,
) -> Result<axum::Json<UserView>, AppError> {
    Ok(axum::Json(service::update(&state, &actor, id, &body).await?))
}

/// Disables a user: they cannot sign in and their sessions end at once.
#[utoipa::path(post, path = "/users/{id}/disable", tag = "users", security(("bearer" = [])), params(("id" = UserId, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody), (status = 409, description = "`last_admin`", body = ErrorBody)))]
async fn disable_user(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<UserId>,
) -> Result<axum::Json<UserView>, AppError> {
    Ok(axum::Json(service::set_status(&state, &actor, id, UserStatus::Disabled).await?))
}

#[utoipa::path(post, path = "/users/{id}/enable", tag = "users", security(("bearer" = [])), params(("id" = UserId, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
async fn enable_user(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<UserId>,
) -> Result<axum::Json<UserView>, AppError> {
    Ok(axum::Json(service::set_status(&state, &actor, id, UserStatus::Active).await?))
}

/// How this area's errors answer over HTTP.
impl From<super::UserError> for AppError {
    fn from(error: super::UserError) -> Self {
        use super::UserError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("user"),
            E::EmailTaken => Self::new(ErrorCode::EmailTaken, error.to_string()),
            E::LastAdmin => Self::new(ErrorCode::LastAdmin, error.to_string()),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
