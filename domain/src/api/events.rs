//! The live event stream (`GET /api/v1/events`, Server-Sent Events).

use super::orders::EventChannel;
use crate::{OrderId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The `data:` of one stream event; its `id:` is `id` and its `event:` is `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderStreamEvent {
    /// Unique; resume after it with `Last-Event-ID` or `?after=`. Ids increase along one order's
    /// events; across orders the stream follows commit order, which ids need not.
    pub id: i64,
    pub order_id: OrderId,
    pub kind: String,
    pub actor_user_id: Option<UserId>,
    pub channel: EventChannel,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Query of `GET /events`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct EventStreamQuery {
    /// Replay the events after this one first (the `Last-Event-ID` header, when sent, wins); 0
    /// replays from the beginning, an id the organization never had starts with the next new event.
    /// Without either, the stream starts with the next new event.
    pub after: Option<i64>,
    /// The access token, for `EventSource` clients that cannot send an `Authorization` header.
    /// Prefer the header: a URL may end up in browser history and proxy logs.
    pub access_token: Option<String>,
}
