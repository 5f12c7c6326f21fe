//! SQL of webhook endpoints.

use domain::api::webhooks::{NewWebhookEndpoint, WebhookChanges, WebhookEndpointView};
use domain::{Label, OrgId, WebhookEndpointId, WebhookUrl};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Which endpoints of an organization to read, in id (creation) order.
#[derive(Debug, Clone, Copy)]
pub struct EndpointFilter {
    pub id: Option<WebhookEndpointId>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

pub async fn select(
    db: impl PgExecutor<'_>,
    org: OrgId,
    filter: &EndpointFilter,
) -> sqlx::Result<Vec<WebhookEndpointView>> {
    sqlx::query_as!(
        WebhookEndpointView,
        r#"SELECT id AS "id: WebhookEndpointId", url AS "url: WebhookUrl", description AS "description: Label",
                  event_types, active, created_at, updated_at
           FROM webhook_endpoints
           WHERE org_id = $1 AND ($2::uuid IS NULL OR id = $2) AND ($3::uuid IS NULL OR id > $3)
           ORDER BY id
           LIMIT $4"#,
        org.0,
        filter.id.map(|id| id.0),
        filter.after,
        filter.limit,
    )
    .fetch_all(db)
    .await
}

pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: WebhookEndpointId,
) -> sqlx::Result<Option<WebhookEndpointView>> {
    let filter = EndpointFilter { id: Some(id), after: None, limit: 1 };
    Ok(select(db, org, &filter).await?.pop())
}

/// How many endpoints the organization has, with its row locked until the transaction ends, so two
/// concurrent creations cannot both pass the limit.
pub async fn lock_and_count(conn: &mut PgConnection, org: OrgId) -> sqlx::Result<i64> {
    sqlx::query!("SELECT id FROM organizations WHERE id = $1 FOR NO KEY UPDATE", org.0).fetch_one(&mut *conn).await?;
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM webhook_endpoints WHERE org_id = $1"#, org.0)
        .fetch_one(conn)
        .await
}

pub async fn insert(
    conn: &mut PgConnection,
    org: OrgId,
    id: WebhookEndpointId,
    endpoint: &NewWebhookEndpoint,
    secret_sealed: &[u8],
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO webhook_endpoints (id, org_id, url, description, event_types, secret_sealed)
         VALUES ($1, $2, $3, $4, $5, $6)",
        id.0,
        org.0,
        endpoint.url.as_str(),
        endpoint.description.as_ref().map(Label::as_str),
        &endpoint.event_types,
        secret_sealed,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Applies the changes; false when the organization has no such endpoint.
pub async fn update(
    conn: &mut PgConnection,
    org: OrgId,
    id: WebhookEndpointId,
    changes: &WebhookChanges,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE webhook_endpoints SET
            url = COALESCE($3, url),
            description = CASE WHEN $4 THEN $5 ELSE description END,
            event_types = COALESCE($6, event_types),
            active = COALESCE($7, active),
            updated_at = now()
         WHERE org_id = $1 AND id = $2",
        org.0,
        id.0,
        changes.url.as_ref().map(WebhookUrl::as_str),
        changes.description.is_some(),
        changes.description.as_ref().and_then(|d| d.as_ref().map(Label::as_str)),
        changes.event_types.as_deref(),
        changes.active,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the sealed secret; false when the organization has no such endpoint.
pub async fn set_secret(
    conn: &mut PgConnection,
    org: OrgId,
    id: WebhookEndpointId,
    secret_sealed: &[u8],
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE webhook_endpoints SET secret_sealed = $3, updated_at = now() WHERE org_id = $1 AND id = $2",
        org.0,
        id.0,
        secret_sealed,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(conn: &mut PgConnection, org: OrgId, id: WebhookEndpointId) -> sqlx::Result<bool> {
    let done =
        sqlx::query!("DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2", org.0, id.0).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

/// An endpoint as a delivery needs it, secret still sealed.
#[derive(Debug)]
pub struct Target {
    pub org_id: OrgId,
    pub url: String,
    pub event_types: Vec<String>,
    pub secret_sealed: Vec<u8>,
    pub active: bool,
}

/// Any organization's endpoint: deliveries know only its id, and compare the organization.
pub async fn target(db: impl PgExecutor<'_>, id: WebhookEndpointId) -> sqlx::Result<Option<Target>> {
    sqlx::query_as!(
        Target,
        r#"SELECT org_id AS "org_id: OrgId", url, event_types, secret_sealed, active
           FROM webhook_endpoints WHERE id = $1"#,
        id.0,
    )
    .fetch_optional(db)
    .await
}

/// The organization's active endpoints that want events of `kind`.
pub async fn subscribed(db: impl PgExecutor<'_>, org: OrgId, kind: &str) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar!(
        "SELECT id FROM webhook_endpoints
         WHERE org_id = $1 AND active AND (event_types = '{}' OR $2 = ANY (event_types))
         ORDER BY id",
        org.0,
        kind,
    )
    .fetch_all(db)
    .await
}
