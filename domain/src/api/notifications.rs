//! The in-app inbox: `GET /notifications`, the unread count, and marking read.

use crate::{Cursor, NotificationId, OrderId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One notification: what happened to which order, by whom. Clients word it in the reader's
/// language from `kind`, as they do error codes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: NotificationId,
    /// The order event: an action's name (`assign`, `complete`…), `rescheduled`, `comment`, `offered`…
    pub kind: String,
    pub order_id: OrderId,
    pub order_number: String,
    pub order_title: String,
    pub actor_user_id: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

/// Query of `GET /notifications`: newest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
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
