use domain::api::Money;
use domain::api::technicians::{TechnicianChanges, TechnicianProfile, TechnicianView};
use domain::api::users::UserView;
use domain::{
    CalendarColor, Currency, Email, Locale, OrgId, PersonName, Phone, Role, Tag, TimeZone, UserId, UserStatus,
    WorkingHours,
};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Default)]
pub struct TechnicianFilter<'a> {
    pub id: Option<UserId>,
    pub status: Option<UserStatus>,
    pub skill: Option<&'a str>,
    pub zone: Option<&'a str>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

struct TechnicianRow {
    id: UserId,
    org_id: OrgId,
    email: Email,
    full_name: PersonName,
    phone: Option<Phone>,
    locale: Locale,
    time_zone: TimeZone,
    status: UserStatus,
    telegram_linked: bool,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    skills: Vec<Tag>,
    zones: Vec<Tag>,
    hourly_rate_minor: i64,
    max_jobs_per_day: i32,
    working_hours: Json<WorkingHours>,
    calendar_color: CalendarColor,
    currency: Currency,
}

impl From<TechnicianRow> for TechnicianView {
    fn from(row: TechnicianRow) -> Self {
        TechnicianView {
            user: UserView {
                id: row.id,
                org_id: row.org_id,
                email: row.email,
                full_name: row.full_name,
                phone: row.phone,
                locale: row.locale,
                time_zone: row.time_zone,
                role: Role::Technician,
                status: row.status,
                telegram_linked: row.telegram_linked,
                created_at: row.created_at,
                updated_at: row.updated_at,
            },
            skills: row.skills,
            zones: row.zones,
            hourly_rate: Money { amount_minor: row.hourly_rate_minor, currency: row.currency },
            max_jobs_per_day: u16::try_from(row.max_jobs_per_day).unwrap_or(u16::MAX),
            working_hours: row.working_hours.0,
            calendar_color: row.calendar_color,
        }
    }
}

pub async fn select(
    db: impl PgExecutor<'_>,
    org: OrgId,
    filter: &TechnicianFilter<'_>,
) -> sqlx::Result<Vec<TechnicianView>> {
    let rows = sqlx::query_as!(
        TechnicianRow,
        r#"SELECT u.id AS "id: UserId", u.org_id AS "org_id: OrgId", u.email AS "email: Email",
                  u.full_name AS "full_name: PersonName", u.phone AS "phone: Phone", u.locale AS "locale: Locale",
                  u.time_zone AS "time_zone: TimeZone", u.status AS "status: UserStatus",
                  u.telegram_user_id IS NOT NULL AS "telegram_linked!", u.created_at, u.updated_at,
                  p.skills AS "skills: Vec<Tag>", p.zones AS "zones: Vec<Tag>", p.hourly_rate_minor,
                  p.max_jobs_per_day, p.working_hours AS "working_hours: Json<WorkingHours>",
                  p.calendar_color AS "calendar_color: CalendarColor", o.currency AS "currency: Currency"
           FROM users u
           JOIN technician_profiles p ON p.user_id = u.id AND p.org_id = u.org_id
           JOIN organizations o ON o.id = u.org_id
           WHERE u.org_id = $1 AND u.role = 'technician'
             AND ($2::uuid IS NULL OR u.id = $2)
             AND ($3::user_status IS NULL OR u.status = $3)
             AND ($4::text IS NULL OR $4 = ANY (p.skills))
             AND ($5::text IS NULL OR $5 = ANY (p.zones))
             AND ($6::uuid IS NULL OR u.id > $6)
           ORDER BY u.id
           LIMIT $7"#,
        org.0,
        filter.id.map(|id| id.0),
        filter.status as Option<UserStatus>,
        filter.skill,
        filter.zone,
        filter.after,
        filter.limit,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(TechnicianView::from).collect())
}

pub async fn find(db: impl PgExecutor<'_>, org: OrgId, id: UserId) -> sqlx::Result<Option<TechnicianView>> {
    let filter = TechnicianFilter { id: Some(id), limit: 1, ..TechnicianFilter::default() };
    Ok(select(db, org, &filter).await?.into_iter().next())
}

/// Gives a user a default profile unless they have one (a role changed to technician).
pub async fn ensure_profile(conn: &mut PgConnection, org: OrgId, user: UserId) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO technician_profiles (user_id, org_id) VALUES ($1, $2) ON CONFLICT (user_id) DO NOTHING",
        user.0,
        org.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn upsert_profile(
    conn: &mut PgConnection,
    org: OrgId,
    user: UserId,
    profile: &TechnicianProfile,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO technician_profiles
            (user_id, org_id, skills, zones, hourly_rate_minor, max_jobs_per_day, working_hours, calendar_color)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (user_id) DO UPDATE SET
            skills = EXCLUDED.skills, zones = EXCLUDED.zones, hourly_rate_minor = EXCLUDED.hourly_rate_minor,
            max_jobs_per_day = EXCLUDED.max_jobs_per_day, working_hours = EXCLUDED.working_hours,
            calendar_color = EXCLUDED.calendar_color, updated_at = now()",
        user.0,
        org.0,
        &profile.skills as &[Tag],
        &profile.zones as &[Tag],
        profile.hourly_rate_minor,
        i32::from(profile.max_jobs_per_day),
        Json(&profile.working_hours) as _,
        profile.calendar_color.as_str(),
    )
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_profile(
    conn: &mut PgConnection,
    org: OrgId,
    user: UserId,
    changes: &TechnicianChanges,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE technician_profiles SET
            skills = COALESCE($3, skills),
            zones = COALESCE($4, zones),
            hourly_rate_minor = COALESCE($5, hourly_rate_minor),
            max_jobs_per_day = COALESCE($6, max_jobs_per_day),
            working_hours = COALESCE($7, working_hours),
            calendar_color = COALESCE($8, calendar_color),
            updated_at = now()
         WHERE org_id = $1 AND user_id = $2",
        org.0,
        user.0,
        changes.skills.as_deref() as Option<&[Tag]>,
        changes.zones.as_deref() as Option<&[Tag]>,
        changes.hourly_rate_minor,
        changes.max_jobs_per_day.map(i32::from),
        changes.working_hours.as_ref().map(Json) as _,
        changes.calendar_color.as_ref().map(CalendarColor::as_str),
    )
    .execute(conn)
    .await?;
    Ok(())
}
