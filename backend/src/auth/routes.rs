use super::service;
use crate::actor::UserActor;
use crate::auth::ClientInfo;
use crate::error::AppError;
use crate::http::extract::Json;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::ErrorBody;
use domain::ErrorCode;
use domain::api::auth::{
    ChangePasswordRequest, ForgotPasswordRequest, LoginRequest, RefreshRequest, ResetPasswordRequest, TokenPair,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(change_password))
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/auth/login", tag = "auth", request_body = LoginRequest, responses(
    (status = 200, body = TokenPair),
    (status = 401, description = "`invalid_credentials`, the same for an unknown email, a wrong password and a disabled account", body = ErrorBody),
    (status = 429, description = "`rate_limited`, with `Retry-After`", body = ErrorBody),
))]
async fn login(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(body): Json<LoginRequest>,
) -> Result<axum::Json<TokenPair>, AppError> {
    Ok(axum::Json(service::login(&state, &body.email, &body.password.0, &client).await?))
}

/// Exchanges a refresh token for a new pair. The presented token is spent; presenting it again
/// ends its whole session (`refresh_token_reused`).
#[utoipa::path(post, path = "/auth/refresh", tag = "auth", request_body = RefreshRequest, responses(
    (status = 200, body = TokenPair),
    (status = 401, description = "`refresh_token_invalid`, `refresh_token_reused` or `session_revoked`", body = ErrorBody),
))]
async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<axum::Json<TokenPair>, AppError> {
    Ok(axum::Json(service::refresh(&state, &body.refresh_token).await?))
}

/// Ends the caller's session: its access and refresh tokens stop working.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])), responses(
    (status = 204), (status = 401, body = ErrorBody),
))]
async fn logout(State(state): State<AppState>, actor: UserActor) -> Result<StatusCode, AppError> {
    service::logout(&state, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Emails a one-time reset link (valid one hour) if an active account has this email.
/// Always answers 202, so it cannot be used to find out who has an account.
#[utoipa::path(post, path = "/auth/password/forgot", tag = "auth", request_body = ForgotPasswordRequest, responses(
    (status = 202), (status = 429, body = ErrorBody),
))]
async fn forgot_password(
    State(state): State<AppState>,
    Json(body): Json<ForgotPasswordRequest>,
) -> Result<StatusCode, AppError> {
    service::forgot_password(&state, &body.email).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with the token from a reset or invitation email; ends every session.
#[utoipa::path(post, path = "/auth/password/reset", tag = "auth", request_body = ResetPasswordRequest, responses(
    (status = 204),
    (status = 422, description = "`reset_token_invalid`, or `validation_failed` for the new password", body = ErrorBody),
    (status = 429, body = ErrorBody),
))]
async fn reset_password(
    State(state): State<AppState>,
    client: ClientInfo,
    Json(body): Json<ResetPasswordRequest>,
) -> Result<StatusCode, AppError> {
    service::reset_password(&state, &body.token, &body.new_password.0, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes the caller's password. Every session ends; the answer carries a fresh pair for this one.
#[utoipa::path(post, path = "/me/password", tag = "me", security(("bearer" = [])), request_body = ChangePasswordRequest, responses(
    (status = 200, body = TokenPair),
    (status = 422, description = "`current_password_wrong`, or `validation_failed` for the new password", body = ErrorBody),
))]
async fn change_password(
    State(state): State<AppState>,
    actor: UserActor,
    client: ClientInfo,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<axum::Json<TokenPair>, AppError> {
    let pair =
        service::change_password(&state, &actor, &body.current_password.0, &body.new_password.0, &client).await?;
    Ok(axum::Json(pair))
}

/// How this area's errors answer over HTTP.
impl From<super::AuthError> for AppError {
    fn from(error: super::AuthError) -> Self {
        use super::AuthError as E;
        use super::tokens::TokenError;
        let code = match &error {
            E::InvalidCredentials => ErrorCode::InvalidCredentials,
            E::MissingToken => ErrorCode::Unauthorized,
            E::Token(TokenError::Expired) => ErrorCode::TokenExpired,
            E::Token(TokenError::Invalid) => ErrorCode::InvalidToken,
            E::SessionRevoked => ErrorCode::SessionRevoked,
            E::RefreshTokenInvalid => ErrorCode::RefreshTokenInvalid,
            E::RefreshTokenReused => ErrorCode::RefreshTokenReused,
            E::ResetTokenInvalid => ErrorCode::ResetTokenInvalid,
            E::CurrentPasswordWrong => ErrorCode::CurrentPasswordWrong,
            E::RateLimited(limited) => return Self::rate_limited(limited.retry_after),
            E::Invalid(errors) => return Self::validation(errors.clone()),
            E::Internal(_) => return Self::internal(error),
        };
        Self::new(code, error.to_string())
    }
}
