//! The one error type every HTTP response goes through: `{"error": {"code", "message", "details"}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{ErrorBody, ErrorCode, ErrorDetail, FieldErrors};

#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<serde_json::Value>,
    /// Seconds, for `Retry-After` on 429.
    pub retry_after: Option<u64>,
    /// The hidden cause of a 5xx, logged and never sent.
    pub cause: Option<anyhow::Error>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: None, retry_after: None, cause: None }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self { cause: Some(cause.into()), ..Self::new(ErrorCode::Internal, "internal error") }
    }

    pub fn validation(errors: FieldErrors) -> Self {
        let details = serde_json::to_value(&errors).unwrap_or_default();
        Self::new(ErrorCode::ValidationFailed, errors.to_string()).with_details(details)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden, "your role may not do this")
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(ErrorCode::RateLimited, "too many attempts; try again later")
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        Self::validation(errors)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(error)
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        Self::internal(error)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            match &self.cause {
                Some(cause) => tracing::error!(code = ?self.code, error = format!("{cause:#}"), "request failed"),
                None => tracing::error!(code = ?self.code, message = %self.message, "request failed"),
            }
        }
        let body = ErrorBody { error: ErrorDetail { code: self.code, message: self.message, details: self.details } };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<crate::actor::Forbidden> for AppError {
    fn from(_: crate::actor::Forbidden) -> Self {
        Self::forbidden()
    }
}
