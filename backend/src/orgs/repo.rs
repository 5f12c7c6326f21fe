use domain::api::org::{OrgChanges, OrgView};
use domain::{Currency, Locale, OrgId, OrgName, TimeZone};
use sqlx::{PgConnection, PgExecutor};

pub async fn find(db: impl PgExecutor<'_>, id: OrgId) -> sqlx::Result<Option<OrgView>> {
    sqlx::query_as!(
        OrgView,
        r#"SELECT id AS "id: OrgId", name AS "name: OrgName", time_zone AS "time_zone: TimeZone",
                  locale AS "locale: Locale", currency AS "currency: Currency", travel_buffer_minutes,
                  auto_dispatch, offer_fanout, offer_timeout_minutes, recurring_horizon_days, daily_summary_hour,
                  created_at, updated_at
           FROM organizations WHERE id = $1"#,
        id.0,
    )
    .fetch_optional(db)
    .await
}

pub async fn find_by_name(db: impl PgExecutor<'_>, name: &OrgName) -> sqlx::Result<Option<OrgId>> {
    sqlx::query_scalar!(r#"SELECT id AS "id: OrgId" FROM organizations WHERE lower(name) = lower($1)"#, name.as_str())
        .fetch_optional(db)
        .await
}

/// Creates the organization unless one of that name exists; answers the id either way.
pub async fn insert_if_absent(
    conn: &mut PgConnection,
    id: OrgId,
    name: &OrgName,
    time_zone: &TimeZone,
    locale: Locale,
    currency: &Currency,
) -> sqlx::Result<OrgId> {
    sqlx::query!(
        "INSERT INTO organizations (id, name, time_zone, locale, currency) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (lower(name)) DO NOTHING",
        id.0,
        name.as_str(),
        time_zone.as_str(),
        locale.as_str(),
        currency.as_str(),
    )
    .execute(&mut *conn)
    .await?;
    Ok(find_by_name(&mut *conn, name).await?.unwrap_or(id))
}

pub async fn update(conn: &mut PgConnection, id: OrgId, changes: &OrgChanges) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE organizations SET
            name = COALESCE($2, name),
            time_zone = COALESCE($3, time_zone),
            locale = COALESCE($4, locale),
            currency = COALESCE($5, currency),
            travel_buffer_minutes = COALESCE($6, travel_buffer_minutes),
            auto_dispatch = COALESCE($7, auto_dispatch),
            offer_fanout = COALESCE($8, offer_fanout),
            offer_timeout_minutes = COALESCE($9, offer_timeout_minutes),
            recurring_horizon_days = COALESCE($10, recurring_horizon_days),
            daily_summary_hour = CASE WHEN $11 THEN $12 ELSE daily_summary_hour END,
            updated_at = now()
         WHERE id = $1",
        id.0,
        changes.name.as_ref().map(OrgName::as_str),
        changes.time_zone.as_ref().map(TimeZone::as_str),
        changes.locale.map(Locale::as_str),
        changes.currency.as_ref().map(Currency::as_str),
        changes.travel_buffer_minutes,
        changes.auto_dispatch,
        changes.offer_fanout,
        changes.offer_timeout_minutes,
        changes.recurring_horizon_days,
        changes.daily_summary_hour.is_some(),
        changes.daily_summary_hour.flatten(),
    )
    .execute(conn)
    .await?;
    Ok(())
}
