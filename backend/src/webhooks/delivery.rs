//! One delivery attempt: the payload of `docs/WEBHOOKS.md`, signed with the endpoint's secret and
//! POSTed once. Whether and when to try again is the delivery queue's decision; [`WebhookError`]
//! tells it whether trying again can help.

use super::client::{Answer, Outgoing, SendError};
use super::{repo, signing};
use crate::notifications::repo as events_repo;
use crate::state::AppState;
use anyhow::Context;
use chrono::{DateTime, Utc};
use domain::{OrderId, OrgId, UserId, WebhookEndpointId};
use serde::Serialize;
use sqlx::PgExecutor;
use uuid::Uuid;

/// Why an attempt failed, with a short message for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// Trying again cannot help: the endpoint is gone or inactive, no longer wants this kind of
    /// event, or its URL may not be called.
    #[error("{0}")]
    Permanent(String),
    /// A later attempt may succeed: a network error, a timeout, a non-2xx answer (its status and
    /// the first 200 characters of its body), or a fault of this server.
    #[error("{0}")]
    Retryable(String),
}

impl WebhookError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, WebhookError::Retryable(_))
    }

    /// The message for the delivery log.
    pub fn message(&self) -> &str {
        match self {
            WebhookError::Permanent(message) | WebhookError::Retryable(message) => message,
        }
    }
}

impl From<SendError> for WebhookError {
    fn from(error: SendError) -> Self {
        match error {
            SendError::Refused(_) => WebhookError::Permanent(error.to_string()),
            SendError::Failed(message) => WebhookError::Retryable(message),
        }
    }
}

/// A fault of this server (database, secrets key): logged in full, retried, and named only
/// vaguely in the delivery log, which admins read.
fn internal(error: impl Into<anyhow::Error>) -> WebhookError {
    tracing::error!(error = format!("{:#}", error.into()), "a webhook delivery failed on our side");
    WebhookError::Retryable("internal error of the sender".to_owned())
}

/// The body of every delivery (`docs/WEBHOOKS.md`).
#[derive(Debug, Serialize)]
pub(super) struct Payload<'a, D> {
    /// The delivery's id, the same in every attempt: receivers drop repeats by it.
    pub id: Uuid,
    /// The order event's kind, or `ping`.
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub created_at: DateTime<Utc>,
    pub organization_id: OrgId,
    pub data: D,
}

#[derive(Debug, Serialize)]
struct OrderEventData<'a> {
    order_id: OrderId,
    order_number: &'a str,
    event_id: i64,
    actor_user_id: Option<UserId>,
    /// The event's own details, as the order's history shows them.
    event: &'a serde_json::Value,
}

/// Opens the endpoint's secret, signs the payload with it now, and sends it once.
pub(super) async fn send_signed<D: Serialize>(
    state: &AppState,
    endpoint: &repo::Target,
    payload: &Payload<'_, D>,
) -> anyhow::Result<Result<Answer, SendError>> {
    let secret = state.secrets.open(&endpoint.secret_sealed)?;
    let secret = String::from_utf8(secret).context("a webhook secret is not text")?;
    let body = serde_json::to_vec(payload)?;
    let signature = signing::header_value(&secret, Utc::now().timestamp(), &body);
    let request = Outgoing { url: &endpoint.url, event: payload.kind, delivery: payload.id, signature, body };
    Ok(state.webhooks.send(request).await)
}

fn wants(event_types: &[String], kind: &str) -> bool {
    event_types.is_empty() || event_types.iter().any(|wanted| wanted == kind)
}

/// One attempt to deliver the order event `event_id` to the endpoint, as delivery `delivery_id`
/// (the payload's `id`: pass the same one on every attempt). Ok when the receiver answered 2xx.
pub async fn deliver_event(
    state: &AppState,
    endpoint_id: Uuid,
    event_id: i64,
    delivery_id: Uuid,
) -> Result<(), WebhookError> {
    let permanent = |message: &str| WebhookError::Permanent(message.to_owned());
    let endpoint = repo::target(&state.db, WebhookEndpointId(endpoint_id))
        .await
        .map_err(internal)?
        .ok_or_else(|| permanent("the endpoint was deleted"))?;
    if !endpoint.active {
        return Err(permanent("the endpoint is inactive"));
    }
    let event = events_repo::event(&state.db, event_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| permanent("the event does not exist"))?;
    if event.org_id != endpoint.org_id {
        return Err(permanent("the event belongs to another organization"));
    }
    if !wants(&endpoint.event_types, &event.kind) {
        return Err(WebhookError::Permanent(format!("the endpoint no longer subscribes to {}", event.kind)));
    }
    let payload = Payload {
        id: delivery_id,
        kind: &event.kind,
        created_at: event.created_at,
        organization_id: event.org_id,
        data: OrderEventData {
            order_id: event.order_id,
            order_number: &event.order_number,
            event_id,
            actor_user_id: event.actor_user_id,
            event: &event.payload,
        },
    };
    let answer = send_signed(state, &endpoint, &payload).await.map_err(internal)??;
    if answer.is_success() { Ok(()) } else { Err(WebhookError::Retryable(answer.describe())) }
}

/// The organization's active endpoints that want events of `kind` (an endpoint with no event
/// types wants every kind), in creation order.
pub async fn endpoints_for(db: impl PgExecutor<'_>, org: OrgId, kind: &str) -> sqlx::Result<Vec<Uuid>> {
    repo::subscribed(db, org, kind).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_event_types_means_every_kind() {
        assert!(wants(&[], "created"));
        assert!(wants(&["assign".to_owned(), "complete".to_owned()], "complete"));
        assert!(!wants(&["assign".to_owned()], "complete"));
    }

    #[test]
    fn refusals_are_permanent_and_failures_retryable() {
        let refused = WebhookError::from(SendError::Refused("127.0.0.1 is not a public address".into()));
        assert!(!refused.is_retryable());
        assert_eq!(refused.message(), "refused: 127.0.0.1 is not a public address");
        let failed = WebhookError::from(SendError::Failed("no answer within 10 s".into()));
        assert!(failed.is_retryable());
        assert_eq!(failed.message(), "no answer within 10 s");
    }
}
