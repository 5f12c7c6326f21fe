use chrono::{DateTime, NaiveDateTime, Utc};
use domain::api::scheduling::RecurringPlanView;
use domain::{CustomerId, OrderId, OrgId, Priority, RecurringPlanId, ServiceTypeId, SiteId, TimeZone, UserId};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A plan as the generator and the API write it.
#[derive(Debug)]
pub struct NewPlan<'a> {
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub service_type_id: ServiceTypeId,
    pub technician_id: Option<UserId>,
    pub title: &'a str,
    pub priority: Priority,
    pub rrule: &'a str,
    pub starts_local: NaiveDateTime,
    pub time_zone: &'a TimeZone,
    pub duration_minutes: i32,
}

pub async fn insert(conn: &mut PgConnection, org: OrgId, plan: &NewPlan<'_>) -> sqlx::Result<RecurringPlanId> {
    sqlx::query_scalar!(
        r#"INSERT INTO recurring_plans (id, org_id, customer_id, site_id, service_type_id, technician_id, title,
                                        priority, rrule, starts_local, time_zone, duration_minutes)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
           RETURNING id AS "id: RecurringPlanId""#,
        RecurringPlanId::new_v7().0,
        org.0,
        plan.customer_id.0,
        plan.site_id.0,
        plan.service_type_id.0,
        plan.technician_id.map(|id| id.0),
        plan.title,
        plan.priority as Priority,
        plan.rrule,
        plan.starts_local,
        plan.time_zone.as_str(),
        plan.duration_minutes,
    )
    .fetch_one(conn)
    .await
}

/// Plans of one organization by id (keyset), or one plan; `lock` takes the plan's row lock, so
/// two generator runs never work on the same plan at once.
pub async fn select(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: Option<RecurringPlanId>,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<RecurringPlanView>> {
    sqlx::query_as!(
        RecurringPlanView,
        r#"SELECT id AS "id: RecurringPlanId", customer_id AS "customer_id: CustomerId", site_id AS "site_id: SiteId",
                  service_type_id AS "service_type_id: ServiceTypeId", technician_id AS "technician_id: UserId", title,
                  priority AS "priority: Priority", rrule, starts_local, time_zone AS "time_zone: TimeZone",
                  duration_minutes, active, created_at, updated_at
           FROM recurring_plans
           WHERE org_id = $1 AND ($2::uuid IS NULL OR id = $2) AND ($3::uuid IS NULL OR id > $3)
           ORDER BY id
           LIMIT $4"#,
        org.0,
        id.map(|id| id.0),
        after,
        limit,
    )
    .fetch_all(db)
    .await
}

pub async fn update(
    conn: &mut PgConnection,
    org: OrgId,
    id: RecurringPlanId,
    active: Option<bool>,
    technician: Option<Option<UserId>>,
    title: Option<&str>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE recurring_plans SET
            active = COALESCE($3, active),
            technician_id = CASE WHEN $4 THEN $5 ELSE technician_id END,
            title = COALESCE($6, title),
            updated_at = now()
         WHERE org_id = $1 AND id = $2",
        org.0,
        id.0,
        active,
        technician.is_some(),
        technician.flatten().map(|id| id.0),
        title,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Active plans, with their organization's horizon, of one organization or of all.
pub async fn active(db: impl PgExecutor<'_>, org: Option<OrgId>) -> sqlx::Result<Vec<(OrgId, RecurringPlanId, i32)>> {
    let rows = sqlx::query!(
        r#"SELECT p.org_id AS "org_id: OrgId", p.id AS "id: RecurringPlanId", o.recurring_horizon_days
           FROM recurring_plans p JOIN organizations o ON o.id = p.org_id
           WHERE p.active AND ($1::uuid IS NULL OR p.org_id = $1)
           ORDER BY p.id"#,
        org.map(|id| id.0),
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.org_id, r.id, r.recurring_horizon_days)).collect())
}

/// Takes the plan's row lock for one generator run; false when the plan is gone or paused.
pub async fn lock(conn: &mut PgConnection, id: RecurringPlanId) -> sqlx::Result<bool> {
    let found = sqlx::query_scalar!("SELECT id FROM recurring_plans WHERE id = $1 AND active FOR UPDATE", id.0)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Occurrences of the plan already turned into orders, from `from` on.
pub async fn generated_since(
    conn: &mut PgConnection,
    plan: RecurringPlanId,
    from: DateTime<Utc>,
) -> sqlx::Result<Vec<DateTime<Utc>>> {
    sqlx::query_scalar!(
        "SELECT occurs_at FROM recurring_occurrences WHERE plan_id = $1 AND occurs_at >= $2",
        plan.0,
        from
    )
    .fetch_all(conn)
    .await
}

pub async fn record_occurrence(
    conn: &mut PgConnection,
    org: OrgId,
    plan: RecurringPlanId,
    occurs_at: DateTime<Utc>,
    order: OrderId,
) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO recurring_occurrences (plan_id, occurs_at, org_id, order_id) VALUES ($1, $2, $3, $4)",
        plan.0,
        occurs_at,
        org.0,
        order.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}
