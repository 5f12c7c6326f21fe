use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes. Clients translate these; the messages are only for humans
/// reading logs and raw responses. Add variants, never rename them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is well-formed but some fields are invalid; `details.fields` names them.
    ValidationFailed,
    /// The body is not syntactically valid JSON.
    MalformedJson,
    /// The body's content type is not accepted by this route.
    UnsupportedMediaType,
    /// The body is larger than this route accepts.
    PayloadTooLarge,
    /// The query string or a path parameter cannot be parsed.
    BadRequest,
    NotFound,
    MethodNotAllowed,
    /// No bearer token was presented.
    Unauthorized,
    /// The bearer token is malformed, forged, of the wrong type, or for another audience.
    InvalidToken,
    TokenExpired,
    /// The session behind a token has ended (logout, password change, disabled account).
    SessionRevoked,
    /// Email and password do not match an active account. Deliberately says nothing more.
    InvalidCredentials,
    /// The refresh token is unknown or expired.
    RefreshTokenInvalid,
    /// A refresh token was presented twice; its whole session has been revoked.
    RefreshTokenReused,
    /// The password reset token is unknown, used or expired.
    ResetTokenInvalid,
    /// The current password given to change it is wrong.
    CurrentPasswordWrong,
    /// The caller's role may not use this route.
    Forbidden,
    RateLimited,
    /// An account with this email already exists.
    EmailTaken,
    /// The change would leave the organization without an active administrator.
    LastAdmin,
    /// The customer already has as many sites as one customer may have.
    SiteLimitReached,
    /// The order's lifecycle does not allow this action now, or not to this caller;
    /// `details` carries `current_status` and `allowed_actions`.
    OrderInvalidTransition,
    /// The object changed since the version the edit was based on; read it again.
    VersionConflict,
    /// The technician is already booked then; `details` names the order it collides with.
    BookingConflict,
    /// The technician does not work then (hours, time off, holiday); `details.reasons` says why.
    /// A dispatcher may book anyway with `force`.
    TechnicianUnavailable,
    /// The offer is no longer open: another technician took the job, or it was withdrawn or expired.
    OfferClosed,
    /// No technician passes every check for this order.
    NoCandidate,
    /// The order has no work report: one is filed with `complete`; `details.current_status` says
    /// where the order is.
    NoWorkReport,
    /// The organization already has as many webhook endpoints as it may have.
    WebhookLimitReached,
    /// The operation has finished (succeeded, failed or was cancelled); `details.status` says how.
    OperationFinished,
    /// The operation's file is not there: it is not finished, or it expired and was deleted.
    OperationFileGone,
    Internal,
    ServiceUnavailable,
}

impl ErrorCode {
    /// The HTTP status this code is always answered with.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            ValidationFailed => 422,
            MalformedJson | BadRequest => 400,
            UnsupportedMediaType => 415,
            PayloadTooLarge => 413,
            NotFound => 404,
            MethodNotAllowed => 405,
            Unauthorized | InvalidToken | TokenExpired | SessionRevoked | InvalidCredentials | RefreshTokenInvalid
            | RefreshTokenReused => 401,
            ResetTokenInvalid | CurrentPasswordWrong | WebhookLimitReached => 422,
            Forbidden => 403,
            RateLimited => 429,
            EmailTaken | LastAdmin => 409,
            SiteLimitReached => 409,
            OrderInvalidTransition | VersionConflict => 409,
            BookingConflict | TechnicianUnavailable | OfferClosed | NoCandidate | NoWorkReport => 409,
            OperationFinished => 409,
            OperationFileGone => 404,
            Internal => 500,
            ServiceUnavailable => 503,
        }
    }
}

/// The JSON body of every error response: `{"error": {"code", "message", "details"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}
