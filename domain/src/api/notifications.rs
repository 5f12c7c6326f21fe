//! The in-app inbox, notification preferences, message templates and the delivery log.

use super::patch;
use crate::notifications::Channel;
use crate::{Cursor, Locale, NotificationId, OrderId, UserId};
use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// One notification. About an order event: what happened to which order, by whom; clients word it
/// in the reader's language from `kind`, as they do error codes. A worded message (`broadcast`,
/// `daily_summary`) has no order and carries its `subject`, `body` and `link` as its sender wrote them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: NotificationId,
    /// The order event (an action's name, `assign`, `complete`…, or `rescheduled`, `comment`,
    /// `offered`…), or the worded message's kind.
    pub kind: String,
    pub order_id: Option<OrderId>,
    pub order_number: Option<String>,
    pub order_title: Option<String>,
    pub actor_user_id: Option<UserId>,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub link: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Query of `GET /notifications`: newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListNotificationsQuery {
    /// Only those not read yet.
    pub unread: Option<bool>,
    pub cursor: Option<Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// `GET /notifications/unread-count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadCount {
    pub unread: i64,
}

/// Quiet hours: wall-clock times in the person's own time zone (`22:00` to `07:00` spans midnight).
/// Messages wait until they end; the in-app inbox fills as usual.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "22:00"))]
    pub start: NaiveTime,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "07:00"))]
    pub end: NaiveTime,
}

/// Whether one event kind reaches the person on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Preference {
    pub kind: String,
    /// `in_app`, `telegram` or `email`.
    pub channel: Channel,
    pub enabled: bool,
}

/// `GET /me/notification-preferences`: every notified kind on every personal channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationPreferences {
    pub quiet_hours: Option<QuietHours>,
    pub preferences: Vec<Preference>,
}

/// `PATCH /me/notification-preferences`: the listed choices change, the others stay. `quiet_hours`
/// absent keeps them, `null` turns them off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateNotificationPreferences {
    #[serde(default, deserialize_with = "patch")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<QuietHours>))]
    pub quiet_hours: Option<Option<QuietHours>>,
    #[serde(default)]
    pub preferences: Vec<Preference>,
}

/// A message template: a subject line and a body, with `{{ placeholders }}` (see the docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateView {
    pub kind: String,
    pub locale: Locale,
    pub subject: String,
    pub body: String,
    /// Whether the organization wrote its own; otherwise the shipped text applies.
    pub customized: bool,
}

/// `PUT /notification-templates/{kind}/{locale}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PutTemplate {
    pub subject: String,
    pub body: String,
}

/// `GET /notification-templates`: one kind in every locale, or every kind in one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListTemplatesQuery {
    pub kind: Option<String>,
    pub locale: Option<Locale>,
}

/// `POST /notification-templates/preview`: renders a stored template, or the given draft, for an
/// order of the organization (or made-up sample data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PreviewTemplate {
    pub kind: String,
    pub locale: Locale,
    pub subject: Option<String>,
    pub body: Option<String>,
    pub order_id: Option<OrderId>,
}

/// A message as it would be sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenderedMessage {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Where a delivery stands: `pending` (queued, waiting for quiet hours or a retry), `sent`, or `dead`
/// (every attempt failed, or the address refused for good; an admin may re-drive it), or `skipped`
/// (the recipient turned it off before it went).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Dead,
    Skipped,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Dead => "dead",
            DeliveryStatus::Skipped => "skipped",
        }
    }
}

/// One message in the delivery log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryView {
    pub id: Uuid,
    pub kind: String,
    pub channel: String,
    pub order_id: Option<OrderId>,
    /// Exactly one of the next three says who it was for.
    pub user_id: Option<UserId>,
    pub email: Option<String>,
    pub webhook_id: Option<Uuid>,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// `GET /notification-deliveries`: newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListDeliveriesQuery {
    pub status: Option<DeliveryStatus>,
    pub channel: Option<Channel>,
    pub order_id: Option<OrderId>,
    pub cursor: Option<Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}
