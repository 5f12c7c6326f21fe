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

impl From<crate::auth::AuthError> for AppError {
    fn from(error: crate::auth::AuthError) -> Self {
        use crate::auth::AuthError as E;
        use crate::auth::tokens::TokenError;
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

impl From<crate::notifications::NotificationError> for AppError {
    fn from(error: crate::notifications::NotificationError) -> Self {
        use crate::notifications::NotificationError as E;
        match error {
            E::NotFound(what) => Self::not_found(what),
            E::Forbidden(_) => Self::forbidden(),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::users::UserError> for AppError {
    fn from(error: crate::users::UserError) -> Self {
        use crate::users::UserError as E;
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

impl From<crate::dashboard::DashboardError> for AppError {
    fn from(error: crate::dashboard::DashboardError) -> Self {
        use crate::dashboard::DashboardError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::orgs::OrgError> for AppError {
    fn from(error: crate::orgs::OrgError) -> Self {
        use crate::orgs::OrgError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("organization"),
            E::NameTaken => Self::validation(FieldErrors::single(
                "name",
                domain::FieldError::new("name_taken", "another organization already has this name"),
            )),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::customers::CustomerError> for AppError {
    fn from(error: crate::customers::CustomerError) -> Self {
        use crate::customers::CustomerError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("customer"),
            E::SiteNotFound => Self::not_found("site"),
            E::SiteLimitReached => Self::new(ErrorCode::SiteLimitReached, error.to_string()),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::service_types::ServiceTypeError> for AppError {
    fn from(error: crate::service_types::ServiceTypeError) -> Self {
        use crate::service_types::ServiceTypeError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("service type"),
            E::CodeTaken => Self::validation(FieldErrors::single(
                "code",
                domain::FieldError::new("code_taken", "another service type of the organization has this code"),
            )),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::orders::OrderError> for AppError {
    fn from(error: crate::orders::OrderError) -> Self {
        use crate::orders::OrderError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("order"),
            E::Invalid(errors) => Self::validation(errors),
            E::StaleVersion { current, .. } => Self::new(ErrorCode::VersionConflict, error.to_string())
                .with_details(serde_json::json!({ "current_version": current })),
            E::InvalidTransition(refused) => Self::new(ErrorCode::OrderInvalidTransition, refused.to_string())
                .with_details(
                    serde_json::json!({ "current_status": refused.current, "allowed_actions": refused.allowed }),
                ),
            E::Conflict { order_id, ref number, start, end } => {
                Self::new(ErrorCode::BookingConflict, error.to_string()).with_details(serde_json::json!({
                    "conflicting_order": { "id": order_id, "number": number, "start": start, "end": end }
                }))
            }
            E::Unavailable(ref reasons) => Self::new(ErrorCode::TechnicianUnavailable, error.to_string())
                .with_details(serde_json::json!({ "reasons": reasons })),
            E::OfferClosed(status) => Self::new(ErrorCode::OfferClosed, error.to_string())
                .with_details(serde_json::json!({ "status": status })),
            E::NoCandidate => Self::new(ErrorCode::NoCandidate, error.to_string()),
            E::NoWorkReport(status) => Self::new(ErrorCode::NoWorkReport, error.to_string())
                .with_details(serde_json::json!({ "current_status": status })),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::scheduling::ScheduleError> for AppError {
    fn from(error: crate::scheduling::ScheduleError) -> Self {
        use crate::scheduling::ScheduleError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound(what) => Self::not_found(what),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::comments::CommentError> for AppError {
    fn from(error: crate::comments::CommentError) -> Self {
        use crate::comments::CommentError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("order"),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::attachments::AttachmentError> for AppError {
    fn from(error: crate::attachments::AttachmentError) -> Self {
        use crate::attachments::AttachmentError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("attachment or order"),
            E::Invalid(errors) => Self::validation(errors),
            E::TooLarge { .. } => Self::new(ErrorCode::PayloadTooLarge, error.to_string()),
            E::UnsupportedType => Self::new(ErrorCode::UnsupportedMediaType, error.to_string()),
            E::Malformed(_) => Self::new(ErrorCode::BadRequest, error.to_string()),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::events::EventStreamError> for AppError {
    fn from(error: crate::events::EventStreamError) -> Self {
        use crate::events::EventStreamError as E;
        match error {
            E::Auth(error) => error.into(),
            E::Forbidden(_) => Self::forbidden(),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::operations::OperationError> for AppError {
    fn from(error: crate::operations::OperationError) -> Self {
        use crate::operations::OperationError as E;
        match error {
            E::Auth(error) => error.into(),
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("operation"),
            E::Finished(status) => Self::new(ErrorCode::OperationFinished, error.to_string())
                .with_details(serde_json::json!({ "status": status })),
            E::FileGone(_) => Self::new(ErrorCode::OperationFileGone, error.to_string()),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::webhooks::EndpointError> for AppError {
    fn from(error: crate::webhooks::EndpointError) -> Self {
        use crate::webhooks::EndpointError as E;
        match error {
            E::Forbidden(_) => Self::forbidden(),
            E::NotFound => Self::not_found("webhook endpoint"),
            E::LimitReached => Self::new(ErrorCode::WebhookLimitReached, error.to_string()),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}

impl From<crate::push::PushError> for AppError {
    fn from(error: crate::push::PushError) -> Self {
        use crate::push::PushError as E;
        match error {
            E::NotConfigured => Self::new(ErrorCode::ServiceUnavailable, error.to_string()),
            E::NotFound => Self::not_found("push subscription"),
            E::Invalid(errors) => Self::validation(errors),
            E::Internal(_) => Self::internal(error),
        }
    }
}
