//! Webhook endpoints, managed by the organization's admins; the test ping.

use super::delivery::{Payload, send_signed};
use super::repo::{self, EndpointFilter};
use crate::actor::{Actor, Forbidden};
use crate::audit;
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use domain::api::webhooks::{
    CreateWebhookRequest, ListWebhooksQuery, MAX_ENDPOINTS, PingResult, UpdateWebhookRequest, WebhookEndpointView,
    WebhookEndpointWithSecret,
};
use domain::{FieldErrors, Page, PageLimit, Permission, WebhookEndpointId};
use rand::RngCore;
use serde::Serialize;
use serde_json::json;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("webhook endpoint not found")]
    NotFound,
    #[error("an organization has at most {MAX_ENDPOINTS} webhook endpoints")]
    LimitReached,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for EndpointError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

/// A new signing secret: `whsec_` and 256 random bits in base64url. Only its sealed form is kept.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", URL_SAFE_NO_PAD.encode(bytes))
}

pub async fn list(
    state: &AppState,
    actor: &Actor,
    query: &ListWebhooksQuery,
) -> Result<Page<WebhookEndpointView>, EndpointError> {
    actor.require(Permission::ManageWebhooks)?;
    let limit = PageLimit::new(query.limit);
    let filter = EndpointFilter { id: None, after: query.cursor.map(|c| c.0), limit: limit.probe() };
    let rows = repo::select(&state.db, actor.org_id(), &filter).await?;
    Ok(Page::from_probe(rows, limit, |endpoint| endpoint.id.0))
}

pub async fn get(state: &AppState, actor: &Actor, id: WebhookEndpointId) -> Result<WebhookEndpointView, EndpointError> {
    actor.require(Permission::ManageWebhooks)?;
    repo::find(&state.db, actor.org_id(), id).await?.ok_or(EndpointError::NotFound)
}

/// Registers an endpoint and answers its secret, which is shown this once.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    request: &CreateWebhookRequest,
) -> Result<WebhookEndpointWithSecret, EndpointError> {
    actor.require(Permission::ManageWebhooks)?;
    let endpoint = request.parse().map_err(EndpointError::Invalid)?;
    let org = actor.org_id();
    let secret = new_secret();
    let sealed = state.secrets.seal(secret.as_bytes())?;
    let id = WebhookEndpointId::new_v7();
    let mut tx = state.db.begin().await?;
    if usize::try_from(repo::lock_and_count(&mut tx, org).await?).unwrap_or(usize::MAX) >= MAX_ENDPOINTS {
        return Err(EndpointError::LimitReached);
    }
    repo::insert(&mut tx, org, id, &endpoint, &sealed).await?;
    let details = json!({ "url": endpoint.url, "event_types": endpoint.event_types });
    audit::record(&mut tx, actor, "webhook.created", ("webhook_endpoint", id.0), details).await?;
    let view = repo::find(&mut *tx, org, id).await?.ok_or(EndpointError::NotFound)?;
    tx.commit().await?;
    Ok(WebhookEndpointWithSecret { endpoint: view, secret })
}

pub async fn update(
    state: &AppState,
    actor: &Actor,
    id: WebhookEndpointId,
    request: &UpdateWebhookRequest,
) -> Result<WebhookEndpointView, EndpointError> {
    actor.require(Permission::ManageWebhooks)?;
    let changes = request.parse().map_err(EndpointError::Invalid)?;
    let org = actor.org_id();
    let mut tx = state.db.begin().await?;
    if !repo::update(&mut tx, org, id, &changes).await? {
        return Err(EndpointError::NotFound);
    }
    let details = json!({
        "url": changes.url, "event_types": changes.event_types, "active": changes.active,
        "description_changed": changes.description.is_some(),
    });
    audit::record(&mut tx, actor, "webhook.updated", ("webhook_endpoint", id.0), details).await?;
    let view = repo::find(&mut *tx, org, id).await?.ok_or(EndpointError::NotFound)?;
    tx.commit().await?;
    Ok(view)
}

/// Deletes an endpoint; deliveries still queued for it then fail for good.
pub async fn delete(state: &AppState, actor: &Actor, id: WebhookEndpointId) -> Result<(), EndpointError> {
    actor.require(Permission::ManageWebhooks)?;
    let mut tx = state.db.begin().await?;
    if !repo::delete(&mut tx, actor.org_id(), id).await? {
        return Err(EndpointError::NotFound);
    }
    audit::record(&mut tx, actor, "webhook.deleted", ("webhook_endpoint", id.0), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the secret at once (the old one stops verifying) and answers the new one, shown once.
pub async fn rotate_secret(
    state: &AppState,
    actor: &Actor,
    id: WebhookEndpointId,
) -> Result<WebhookEndpointWithSecret, EndpointError> {
    actor.require(Permission::ManageWebhooks)?;
    let org = actor.org_id();
    let secret = new_secret();
    let sealed = state.secrets.seal(secret.as_bytes())?;
    let mut tx = state.db.begin().await?;
    if !repo::set_secret(&mut tx, org, id, &sealed).await? {
        return Err(EndpointError::NotFound);
    }
    audit::record(&mut tx, actor, "webhook.secret_rotated", ("webhook_endpoint", id.0), json!({})).await?;
    let view = repo::find(&mut *tx, org, id).await?.ok_or(EndpointError::NotFound)?;
    tx.commit().await?;
    Ok(WebhookEndpointWithSecret { endpoint: view, secret })
}

#[derive(Debug, Serialize)]
struct PingData {
    endpoint_id: WebhookEndpointId,
}

/// Sends a signed `ping` now, active endpoint or not, and reports how it went. Not retried.
pub async fn ping(state: &AppState, actor: &Actor, id: WebhookEndpointId) -> Result<PingResult, EndpointError> {
    actor.require(Permission::ManageWebhooks)?;
    let org = actor.org_id();
    let endpoint =
        repo::target(&state.db, id).await?.filter(|endpoint| endpoint.org_id == org).ok_or(EndpointError::NotFound)?;
    let payload = Payload {
        id: uuid::Uuid::now_v7(),
        kind: "ping",
        created_at: Utc::now(),
        organization_id: org,
        data: PingData { endpoint_id: id },
    };
    let started = Instant::now();
    let outcome = send_signed(state, &endpoint, &payload).await?;
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(match outcome {
        Ok(answer) => PingResult {
            delivered: answer.is_success(),
            status_code: Some(answer.status),
            duration_ms,
            error: (!answer.is_success()).then(|| answer.describe()),
        },
        Err(error) => PingResult { delivered: false, status_code: None, duration_ms, error: Some(error.to_string()) },
    })
}
