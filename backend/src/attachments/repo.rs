use chrono::{DateTime, Utc};
use domain::api::attachments::{AttachmentKind, AttachmentView};
use domain::{AttachmentId, OrderId, OrgId, UserId};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// An attachment row as stored; the storage keys stay on the server.
#[derive(Debug)]
pub struct AttachmentRow {
    pub id: AttachmentId,
    pub kind: AttachmentKind,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: Vec<u8>,
    pub storage_key: String,
    pub thumbnail_key: Option<String>,
    pub taken_at: Option<DateTime<Utc>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub uploaded_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
}

impl AttachmentRow {
    pub fn into_view(self) -> AttachmentView {
        AttachmentView {
            id: self.id,
            kind: self.kind,
            file_name: self.file_name,
            content_type: self.content_type,
            size_bytes: self.size_bytes,
            sha256: hex::encode(&self.sha256),
            has_thumbnail: self.thumbnail_key.is_some(),
            taken_at: self.taken_at,
            latitude: self.latitude,
            longitude: self.longitude,
            uploaded_by: self.uploaded_by,
            created_at: self.created_at,
        }
    }
}

/// One order's attachments, oldest first, after the keyset `after`.
pub async fn select(
    db: impl PgExecutor<'_>,
    org: OrgId,
    order: OrderId,
    id: Option<AttachmentId>,
    kind: Option<AttachmentKind>,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<AttachmentRow>> {
    sqlx::query_as!(
        AttachmentRow,
        r#"SELECT id AS "id: AttachmentId", kind AS "kind: AttachmentKind", file_name, content_type, size_bytes,
                  sha256, storage_key, thumbnail_key, taken_at, latitude, longitude,
                  uploaded_by AS "uploaded_by: UserId", created_at
           FROM order_attachments
           WHERE org_id = $1 AND order_id = $2
             AND ($3::uuid IS NULL OR id = $3)
             AND ($4::attachment_kind IS NULL OR kind = $4)
             AND ($5::uuid IS NULL OR id > $5)
           ORDER BY id
           LIMIT $6"#,
        org.0,
        order.0,
        id.map(|id| id.0),
        kind as Option<AttachmentKind>,
        after,
        limit,
    )
    .fetch_all(db)
    .await
}

pub async fn find(
    db: impl PgExecutor<'_>,
    org: OrgId,
    order: OrderId,
    id: AttachmentId,
) -> sqlx::Result<Option<AttachmentRow>> {
    Ok(select(db, org, order, Some(id), None, None, 1).await?.pop())
}

#[derive(Debug)]
pub struct InsertAttachment<'a> {
    pub id: AttachmentId,
    pub org: OrgId,
    pub order: OrderId,
    pub kind: AttachmentKind,
    pub file_name: &'a str,
    pub content_type: &'a str,
    pub size_bytes: i64,
    pub sha256: &'a [u8],
    pub storage_key: &'a str,
    pub thumbnail_key: Option<&'a str>,
    pub taken_at: Option<DateTime<Utc>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub uploaded_by: UserId,
}

pub async fn insert(conn: &mut PgConnection, row: &InsertAttachment<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO order_attachments (id, org_id, order_id, kind, file_name, content_type, size_bytes, sha256,
                                        storage_key, thumbnail_key, taken_at, latitude, longitude, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        row.id.0,
        row.org.0,
        row.order.0,
        row.kind as AttachmentKind,
        row.file_name,
        row.content_type,
        row.size_bytes,
        row.sha256,
        row.storage_key,
        row.thumbnail_key,
        row.taken_at,
        row.latitude,
        row.longitude,
        row.uploaded_by.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Those of `keys` an attachment keeps its file or thumbnail at: the clean-up deletes the others.
pub async fn referenced_keys(db: impl PgExecutor<'_>, keys: &[String]) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT k AS "key!" FROM UNNEST($1::text[]) AS k
           WHERE EXISTS (SELECT 1 FROM order_attachments a WHERE a.storage_key = k OR a.thumbnail_key = k)"#,
        keys,
    )
    .fetch_all(db)
    .await
}

/// Where the sweep for unreferenced files stopped last (a storage key; empty: the start).
pub async fn sweep_position(db: impl PgExecutor<'_>) -> sqlx::Result<String> {
    sqlx::query_scalar!("SELECT after_key FROM storage_sweep").fetch_one(db).await
}

pub async fn set_sweep_position(db: impl PgExecutor<'_>, after_key: &str) -> sqlx::Result<()> {
    sqlx::query!("UPDATE storage_sweep SET after_key = $1", after_key).execute(db).await.map(drop)
}
