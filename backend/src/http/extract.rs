//! Extractors whose rejections come back in the JSON error shape, and the ones that identify the
//! caller. They authenticate; deciding what the caller may do is the services' job.

use crate::actor::{Actor, UserActor};
use crate::auth::{self, ClientInfo};
use crate::error::AppError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use domain::ErrorCode;
use std::net::SocketAddr;

/// `axum::Json` with errors in our shape: 400 malformed, 413 too large, 415 wrong type, 422 wrong fields.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct Json<T>(pub T);

/// `axum::extract::Query` with errors in our shape (400).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` with errors in our shape (400).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        let code = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::ValidationFailed,
            _ => ErrorCode::MalformedJson,
        };
        let message = match code {
            ErrorCode::UnsupportedMediaType => "expected a body with Content-Type: application/json".to_owned(),
            ErrorCode::PayloadTooLarge => "the body is too large".to_owned(),
            _ => rejection.body_text(),
        };
        AppError::new(code, message)
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        AppError::new(ErrorCode::BadRequest, rejection.body_text())
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        AppError::new(ErrorCode::BadRequest, rejection.body_text())
    }
}

/// A body of one of the `accepted` media types (`Content-Type`, parameters aside): 415 for
/// another, 413 above the route's body limit, which `max_bytes` names in the message.
pub async fn typed_body<S: Send + Sync>(
    request: Request,
    state: &S,
    accepted: &[&str],
    max_bytes: usize,
) -> Result<Bytes, AppError> {
    let media_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase());
    if !media_type.is_some_and(|media_type| accepted.contains(&media_type.as_str())) {
        let message = format!("expected a body with Content-Type: {}", accepted.join(" or "));
        return Err(AppError::new(ErrorCode::UnsupportedMediaType, message));
    }
    Bytes::from_request(request, state).await.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::new(ErrorCode::PayloadTooLarge, format!("the body is larger than {max_bytes} bytes"))
        }
        _ => AppError::new(ErrorCode::BadRequest, rejection.body_text()),
    })
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}

impl FromRequestParts<AppState> for UserActor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = bearer_token(&parts.headers).ok_or(auth::AuthError::MissingToken)?;
        let actor = auth::service::authenticate(state, token).await?;
        tracing::Span::current().record("user_id", tracing::field::display(actor.user_id));
        Ok(actor)
    }
}

impl FromRequestParts<AppState> for Actor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        UserActor::from_request_parts(parts, state).await.map(Actor::User)
    }
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .settings
            .trust_proxy_headers
            .then(|| parts.headers.get("x-forwarded-for"))
            .flatten()
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .map(|ip| ip.trim().to_owned());
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip().to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .map(|ua| ua.chars().take(300).collect());
        Ok(ClientInfo { ip: forwarded.or(peer).unwrap_or_else(|| "unknown".into()), user_agent })
    }
}

/// Which door a request came through, for the history: the web app says `X-Fieldflow-Client: web`;
/// anything else is an API client.
#[derive(Debug, Clone, Copy)]
pub struct Channel(pub domain::api::orders::EventChannel);

impl<S: Send + Sync> FromRequestParts<S> for Channel {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        use domain::api::orders::EventChannel;
        let web = parts.headers.get("x-fieldflow-client").is_some_and(|value| value.as_bytes() == b"web");
        Ok(Channel(if web { EventChannel::Web } else { EventChannel::Api }))
    }
}
