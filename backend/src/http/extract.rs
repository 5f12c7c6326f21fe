//! Extractors whose rejections come back in the JSON error shape, and the ones that identify the
//! caller. They authenticate; deciding what the caller may do is the services' job.

use crate::actor::{Actor, UserActor};
use crate::auth::{self, ClientInfo};
use crate::error::AppError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use domain::ErrorCode;
use serde::de::DeserializeOwned;
use std::net::SocketAddr;

/// `axum::Json` with errors in our shape: 400 malformed, 413 too large, 415 wrong type, 422 wrong
/// fields or a NUL character in any string (PostgreSQL's text refuses it).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, AppError> {
        let json = media_type(request.headers()).is_some_and(|media_type| {
            media_type == "application/json"
                || (media_type.starts_with("application/") && media_type.ends_with("+json"))
        });
        if !json {
            return Err(AppError::new(
                ErrorCode::UnsupportedMediaType,
                "expected a body with Content-Type: application/json",
            ));
        }
        let body = Bytes::from_request(request, state).await.map_err(JsonRejection::from)?;
        let axum::Json(value) = axum::Json::from_bytes(&body)?;
        if escapes_nul(&body) {
            return Err(AppError::new(ErrorCode::ValidationFailed, "text may not contain the NUL character (\\u0000)"));
        }
        Ok(Json(value))
    }
}

/// Whether a JSON document holds the escape `\u0000` (a raw NUL is not valid JSON at all). Outside
/// strings valid JSON has no backslash, so every backslash starts an escape.
fn escapes_nul(json: &[u8]) -> bool {
    let mut rest = json;
    while let Some(at) = rest.iter().position(|byte| *byte == b'\\') {
        if rest[at..].starts_with(b"\\u0000") {
            return true;
        }
        rest = rest.get(at + 2..).unwrap_or_default();
    }
    false
}

/// Whether a URI part carries a percent-encoded NUL; no decoded text may hold one.
fn encodes_nul(uri_part: &str) -> bool {
    uri_part.as_bytes().windows(3).any(|window| window.eq_ignore_ascii_case(b"%00"))
}

fn nul_in_uri() -> AppError {
    AppError::new(ErrorCode::BadRequest, "the address may not contain the NUL character (%00)")
}

/// A query string with errors in our shape (400). Parsed like `axum::extract::Query`, except that
/// a repeated key fills a list (`status=new&status=assigned`); repeating a single-valued key is
/// refused.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or_default();
        if encodes_nul(query) {
            return Err(nul_in_uri());
        }
        serde_html_form::from_str(query).map(Query).map_err(|error| {
            AppError::new(ErrorCode::BadRequest, format!("Failed to deserialize query string: {error}"))
        })
    }
}

/// `axum::extract::Path` with errors in our shape (400).
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        if encodes_nul(parts.uri.path()) {
            return Err(nul_in_uri());
        }
        let axum::extract::Path(value) = axum::extract::Path::from_request_parts(parts, state).await?;
        Ok(Path(value))
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => AppError::new(ErrorCode::PayloadTooLarge, "the body is too large"),
            StatusCode::UNPROCESSABLE_ENTITY => AppError::new(ErrorCode::ValidationFailed, rejection.body_text()),
            _ => AppError::new(ErrorCode::MalformedJson, rejection.body_text()),
        }
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
    if !media_type(request.headers()).is_some_and(|media_type| accepted.contains(&media_type.as_str())) {
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

/// The `Content-Type` without its parameters, in lower case.
fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|value| value.trim().to_ascii_lowercase())
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
