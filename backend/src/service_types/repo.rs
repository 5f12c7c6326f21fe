use domain::api::Money;
use domain::api::service_types::{ChecklistItem, RequiredPhotos, ServiceTypeTemplate, ServiceTypeView, SlaTargets};
use domain::{Currency, Label, OrgId, ServiceTypeId, Slug, Tag};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Which service types to read. Every read goes through [`select`], so there is one column list.
#[derive(Debug, Default)]
pub struct ServiceTypeFilter {
    pub id: Option<ServiceTypeId>,
    pub include_archived: bool,
    /// Keyset: only ids after this one.
    pub after: Option<Uuid>,
    pub limit: i64,
}

struct ServiceTypeRow {
    id: ServiceTypeId,
    code: Slug,
    name: Label,
    description: Option<String>,
    default_duration_minutes: i32,
    default_price_minor: i64,
    currency: Currency,
    required_skills: Vec<Tag>,
    checklist: Json<Vec<ChecklistItem>>,
    required_photos_before: i32,
    required_photos_after: i32,
    approval_required: bool,
    sla: Json<SlaTargets>,
    archived_at: Option<chrono::DateTime<chrono::Utc>>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<ServiceTypeRow> for ServiceTypeView {
    fn from(row: ServiceTypeRow) -> Self {
        // The table's checks keep these within the template's limits.
        ServiceTypeView {
            id: row.id,
            code: row.code,
            name: row.name,
            description: row.description,
            default_duration_minutes: u32::try_from(row.default_duration_minutes).unwrap_or(u32::MAX),
            default_price: Money { amount_minor: row.default_price_minor, currency: row.currency },
            required_skills: row.required_skills,
            checklist: row.checklist.0,
            required_photos: RequiredPhotos {
                before: u16::try_from(row.required_photos_before).unwrap_or(u16::MAX),
                after: u16::try_from(row.required_photos_after).unwrap_or(u16::MAX),
            },
            approval_required: row.approval_required,
            sla_minutes: row.sla.0,
            archived_at: row.archived_at,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

pub async fn select(
    db: impl PgExecutor<'_>,
    org: OrgId,
    filter: &ServiceTypeFilter,
) -> sqlx::Result<Vec<ServiceTypeView>> {
    let rows = sqlx::query_as!(
        ServiceTypeRow,
        r#"SELECT s.id AS "id: ServiceTypeId", s.code AS "code: Slug", s.name AS "name: Label", s.description,
                  s.default_duration_minutes, s.default_price_minor, o.currency AS "currency: Currency",
                  s.required_skills AS "required_skills: Vec<Tag>",
                  s.checklist AS "checklist: Json<Vec<ChecklistItem>>",
                  s.required_photos_before, s.required_photos_after, s.approval_required,
                  s.sla AS "sla: Json<SlaTargets>", s.archived_at, s.created_at, s.updated_at
           FROM service_types s
           JOIN organizations o ON o.id = s.org_id
           WHERE s.org_id = $1
             AND ($2::uuid IS NULL OR s.id = $2)
             AND ($3 OR s.archived_at IS NULL)
             AND ($4::uuid IS NULL OR s.id > $4)
           ORDER BY s.id
           LIMIT $5"#,
        org.0,
        filter.id.map(|id| id.0),
        filter.include_archived,
        filter.after,
        filter.limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(ServiceTypeView::from).collect())
}

/// Archived ones included.
pub async fn find(db: impl PgExecutor<'_>, org: OrgId, id: ServiceTypeId) -> sqlx::Result<Option<ServiceTypeView>> {
    let filter = ServiceTypeFilter { id: Some(id), include_archived: true, limit: 1, ..ServiceTypeFilter::default() };
    Ok(select(db, org, &filter).await?.into_iter().next())
}

/// Locks the row for a read-modify-write; false when the organization has no such service type.
pub async fn lock(conn: &mut PgConnection, org: OrgId, id: ServiceTypeId) -> sqlx::Result<bool> {
    let found =
        sqlx::query_scalar!("SELECT 1 FROM service_types WHERE org_id = $1 AND id = $2 FOR UPDATE", org.0, id.0)
            .fetch_optional(conn)
            .await?;
    Ok(found.is_some())
}

/// Those of `skills` that some technician of the organization has.
pub async fn known_skills(db: impl PgExecutor<'_>, org: OrgId, skills: &[String]) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar!(
        r#"SELECT DISTINCT c.skill AS "skill!"
           FROM unnest($2::text[]) AS c (skill)
           WHERE EXISTS (
               SELECT 1 FROM technician_profiles p
               JOIN users u ON u.id = p.user_id AND u.org_id = p.org_id
               WHERE p.org_id = $1 AND u.role = 'technician' AND p.skills @> ARRAY[c.skill])"#,
        org.0,
        skills,
    )
    .fetch_all(db)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    org: OrgId,
    id: ServiceTypeId,
    template: &ServiceTypeTemplate,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO service_types
            (id, org_id, code, name, description, default_duration_minutes, default_price_minor, required_skills,
             checklist, required_photos_before, required_photos_after, approval_required, sla)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        id.0,
        org.0,
        template.code.as_str(),
        template.name.as_str(),
        template.description.as_deref(),
        i32::try_from(template.default_duration_minutes).unwrap_or(i32::MAX),
        template.default_price_minor,
        &template.required_skills as &[Tag],
        Json(&template.checklist) as _,
        i32::from(template.required_photos.before),
        i32::from(template.required_photos.after),
        template.approval_required,
        Json(&template.sla_minutes) as _,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Writes the template over the stored one; false when nothing differed, so `updated_at` then stays.
pub async fn update(
    conn: &mut PgConnection,
    org: OrgId,
    id: ServiceTypeId,
    template: &ServiceTypeTemplate,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE service_types SET
            code = $3, name = $4, description = $5, default_duration_minutes = $6, default_price_minor = $7,
            required_skills = $8, checklist = $9, required_photos_before = $10, required_photos_after = $11,
            approval_required = $12, sla = $13, updated_at = now()
         WHERE org_id = $1 AND id = $2
           AND (code, name, description, default_duration_minutes, default_price_minor, required_skills, checklist,
                required_photos_before, required_photos_after, approval_required, sla)
               IS DISTINCT FROM ($3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        org.0,
        id.0,
        template.code.as_str(),
        template.name.as_str(),
        template.description.as_deref(),
        i32::try_from(template.default_duration_minutes).unwrap_or(i32::MAX),
        template.default_price_minor,
        &template.required_skills as &[Tag],
        Json(&template.checklist) as _,
        i32::from(template.required_photos.before),
        i32::from(template.required_photos.after),
        template.approval_required,
        Json(&template.sla_minutes) as _,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What an import did to one template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
    Unchanged,
}

/// Creates the template or, when its code exists, writes it over the stored one (restoring it if
/// archived). A template already exactly like this is left alone, `updated_at` included.
pub async fn upsert(
    conn: &mut PgConnection,
    org: OrgId,
    id: ServiceTypeId,
    template: &ServiceTypeTemplate,
) -> sqlx::Result<Upserted> {
    // `xmax` is 0 only in a row version this statement inserted.
    let created = sqlx::query_scalar!(
        r#"INSERT INTO service_types AS s
            (id, org_id, code, name, description, default_duration_minutes, default_price_minor, required_skills,
             checklist, required_photos_before, required_photos_after, approval_required, sla)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (org_id, code) DO UPDATE SET
            name = EXCLUDED.name, description = EXCLUDED.description,
            default_duration_minutes = EXCLUDED.default_duration_minutes,
            default_price_minor = EXCLUDED.default_price_minor, required_skills = EXCLUDED.required_skills,
            checklist = EXCLUDED.checklist, required_photos_before = EXCLUDED.required_photos_before,
            required_photos_after = EXCLUDED.required_photos_after, approval_required = EXCLUDED.approval_required,
            sla = EXCLUDED.sla, archived_at = NULL, updated_at = now()
         WHERE (s.name, s.description, s.default_duration_minutes, s.default_price_minor, s.required_skills,
                s.checklist, s.required_photos_before, s.required_photos_after, s.approval_required, s.sla,
                s.archived_at IS NULL)
               IS DISTINCT FROM
               (EXCLUDED.name, EXCLUDED.description, EXCLUDED.default_duration_minutes, EXCLUDED.default_price_minor,
                EXCLUDED.required_skills, EXCLUDED.checklist, EXCLUDED.required_photos_before,
                EXCLUDED.required_photos_after, EXCLUDED.approval_required, EXCLUDED.sla, true)
         RETURNING (s.xmax = 0) AS "created!""#,
        id.0,
        org.0,
        template.code.as_str(),
        template.name.as_str(),
        template.description.as_deref(),
        i32::try_from(template.default_duration_minutes).unwrap_or(i32::MAX),
        template.default_price_minor,
        &template.required_skills as &[Tag],
        Json(&template.checklist) as _,
        i32::from(template.required_photos.before),
        i32::from(template.required_photos.after),
        template.approval_required,
        Json(&template.sla_minutes) as _,
    )
    .fetch_optional(conn)
    .await?;
    Ok(match created {
        Some(true) => Upserted::Created,
        Some(false) => Upserted::Updated,
        None => Upserted::Unchanged,
    })
}

/// Archives the service type unless it already is; false when nothing changed.
pub async fn archive(conn: &mut PgConnection, org: OrgId, id: ServiceTypeId) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE service_types SET archived_at = now(), updated_at = now()
         WHERE org_id = $1 AND id = $2 AND archived_at IS NULL",
        org.0,
        id.0,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
