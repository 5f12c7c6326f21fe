use crate::actor::Actor;
use domain::{OrgId, UserId};
use sqlx::PgConnection;
use uuid::Uuid;

/// Who an audit entry is attributed to: an organization and, unless the system acted, a user.
#[derive(Debug, Clone, Copy)]
pub struct By {
    pub org_id: OrgId,
    pub user_id: Option<UserId>,
}

impl From<&Actor> for By {
    fn from(actor: &Actor) -> Self {
        Self { org_id: actor.org_id(), user_id: actor.user_id() }
    }
}

/// Appends to the audit log, inside the caller's transaction so the entry and the change it
/// describes commit or roll back together.
pub async fn record(
    conn: &mut PgConnection,
    by: impl Into<By>,
    action: &str,
    subject: (&str, Uuid),
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    let by = by.into();
    sqlx::query!(
        "INSERT INTO audit_log (org_id, actor_user_id, action, subject_type, subject_id, details)
         VALUES ($1, $2, $3, $4, $5, $6)",
        by.org_id.0,
        by.user_id.map(|id| id.0),
        action,
        subject.0,
        subject.1,
        details,
    )
    .execute(conn)
    .await?;
    Ok(())
}
