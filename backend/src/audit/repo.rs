//! `audit_log`: an append-only record of who changed what.

use super::By;
use sqlx::PgConnection;
use uuid::Uuid;

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
