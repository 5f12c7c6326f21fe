use domain::api::users::{NewUser, ProfileChanges, UserView};
use domain::{Email, Locale, OrgId, PersonName, Phone, Role, TimeZone, UserId, UserStatus};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Which users to read. Every read goes through [`select`], so there is one column list to keep.
#[derive(Debug, Default)]
pub struct UserFilter<'a> {
    pub id: Option<UserId>,
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// Lower-case prefix of the name or the email.
    pub prefix: Option<&'a str>,
    /// Keyset: only ids after this one.
    pub after: Option<Uuid>,
    pub limit: i64,
}

pub async fn select(db: impl PgExecutor<'_>, org: OrgId, filter: &UserFilter<'_>) -> sqlx::Result<Vec<UserView>> {
    let prefix = filter.prefix.map(like_prefix);
    sqlx::query_as!(
        UserView,
        r#"SELECT id AS "id: UserId", org_id AS "org_id: OrgId", email AS "email: Email",
                  full_name AS "full_name: PersonName", phone AS "phone: Phone", locale AS "locale: Locale",
                  time_zone AS "time_zone: TimeZone", role AS "role: Role", status AS "status: UserStatus",
                  telegram_user_id IS NOT NULL AS "telegram_linked!", created_at, updated_at
           FROM users
           WHERE org_id = $1
             AND ($2::uuid IS NULL OR id = $2)
             AND ($3::user_role IS NULL OR role = $3)
             AND ($4::user_status IS NULL OR status = $4)
             AND ($5::text IS NULL OR lower(full_name) LIKE $5 OR email LIKE $5)
             AND ($6::uuid IS NULL OR id > $6)
           ORDER BY id
           LIMIT $7"#,
        org.0,
        filter.id.map(|id| id.0),
        filter.role as Option<Role>,
        filter.status as Option<UserStatus>,
        prefix,
        filter.after,
        filter.limit,
    )
    .fetch_all(db)
    .await
}

pub async fn find(db: impl PgExecutor<'_>, org: OrgId, id: UserId) -> sqlx::Result<Option<UserView>> {
    let filter = UserFilter { id: Some(id), limit: 1, ..UserFilter::default() };
    Ok(select(db, org, &filter).await?.into_iter().next())
}

/// `LIKE` pattern for "starts with", with the wildcards of the input escaped.
fn like_prefix(raw: &str) -> String {
    let escaped = raw.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("{escaped}%")
}

pub async fn insert(
    conn: &mut PgConnection,
    id: UserId,
    org: OrgId,
    user: &NewUser,
    locale: Locale,
    time_zone: &TimeZone,
    password_hash: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO users (id, org_id, email, password_hash, full_name, phone, locale, time_zone, role)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        id.0,
        org.0,
        user.email.as_str(),
        password_hash,
        user.full_name.as_str(),
        user.phone.as_ref().map(Phone::as_str),
        locale.as_str(),
        time_zone.as_str(),
        user.role as Role,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Applies profile changes (and a role change); false when no such user is in the organization.
pub async fn update(
    conn: &mut PgConnection,
    org: OrgId,
    id: UserId,
    changes: &ProfileChanges,
    role: Option<Role>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE users SET
            full_name = COALESCE($3, full_name),
            phone = CASE WHEN $4 THEN $5 ELSE phone END,
            locale = COALESCE($6, locale),
            time_zone = COALESCE($7, time_zone),
            role = COALESCE($8, role),
            updated_at = now()
         WHERE org_id = $1 AND id = $2",
        org.0,
        id.0,
        changes.full_name.as_ref().map(PersonName::as_str),
        changes.phone.is_some(),
        changes.phone.as_ref().and_then(|p| p.as_ref().map(Phone::as_str)),
        changes.locale.map(Locale::as_str),
        changes.time_zone.as_ref().map(TimeZone::as_str),
        role as Option<Role>,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_status(conn: &mut PgConnection, org: OrgId, id: UserId, status: UserStatus) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE users SET status = $3, updated_at = now() WHERE org_id = $1 AND id = $2",
        org.0,
        id.0,
        status as UserStatus,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The organization's active admins, locked, so two admins demoting each other at once cannot
/// leave the organization with none.
pub async fn lock_active_admins(conn: &mut PgConnection, org: OrgId) -> sqlx::Result<Vec<UserId>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users WHERE org_id = $1 AND role = 'admin' AND status = 'active'
           ORDER BY id FOR UPDATE"#,
        org.0,
    )
    .fetch_all(conn)
    .await
}

/// The organization's office: its active admins, dispatchers and managers, with their language.
pub async fn office(db: impl PgExecutor<'_>, org: OrgId) -> sqlx::Result<Vec<(UserId, Locale)>> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id: UserId", locale FROM users
           WHERE org_id = $1 AND status = 'active' AND role IN ('admin', 'dispatcher', 'manager')
           ORDER BY id"#,
        org.0,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| (row.id, Locale::parse(&row.locale).unwrap_or(Locale::En))).collect())
}
