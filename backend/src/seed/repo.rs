//! The seed's bulk writes: orders with known histories in one statement per table, and what past
//! orders are planned from. Seed-only; the product writes orders one action at a time through
//! `orders::repo`.

use super::history::Replayed;
use chrono::{DateTime, Utc};
use domain::{Currency, CustomerId, OrgId, ServiceTypeId, SiteId, UserId, WorkingHours};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// Refreshes the planner's statistics of the order tables. A bulk load into empty tables must do
/// this early: until then foreign-key checks are planned for empty tables and scan them whole.
pub async fn analyze(db: impl PgExecutor<'_>) -> sqlx::Result<()> {
    sqlx::query("ANALYZE orders, order_events").execute(db).await?;
    Ok(())
}

/// Reserves `count` consecutive numbers of the organization's year; answers the first.
pub async fn reserve_numbers(conn: &mut PgConnection, org: OrgId, year: i32, count: i32) -> sqlx::Result<i32> {
    let last = sqlx::query_scalar!(
        "INSERT INTO order_number_counters (org_id, year, last_value) VALUES ($1, $2, $3)
         ON CONFLICT (org_id, year) DO UPDATE SET last_value = order_number_counters.last_value + $3
         RETURNING last_value",
        org.0,
        year,
        count,
    )
    .fetch_one(conn)
    .await?;
    Ok(last - count + 1)
}

/// Writes orders with known histories in one statement each for orders and events.
pub async fn insert_replayed(
    conn: &mut PgConnection,
    org: OrgId,
    currency: &Currency,
    orders: &[(String, String, Replayed)],
) -> sqlx::Result<()> {
    let mut o = ReplayedColumns::default();
    let mut e = EventColumns::default();
    for (number, token, replayed) in orders {
        let order = &replayed.order;
        o.id.push(order.id.0);
        o.number.push(number.clone());
        o.customer.push(order.customer_id.0);
        o.site.push(order.site_id.0);
        o.service_type.push(order.service_type_id.0);
        o.title.push(order.title.clone());
        o.priority.push(order.priority.as_str().to_owned());
        o.status.push(replayed.status.as_str().to_owned());
        o.held_from.push(replayed.held_from.map(|s| s.as_str().to_owned()));
        o.approval.push(order.approval_required);
        o.technician.push(replayed.technician.map(|id| id.0));
        o.sla_due.push(order.sla_minutes.map(|m| order.created_at + chrono::Duration::minutes(i64::from(m))));
        o.window_start.push(order.window.map(|(start, _)| start));
        o.window_end.push(order.window.map(|(_, end)| end));
        o.duration.push(order.duration_minutes);
        o.cost.push(order.cost_minor);
        o.token.push(token.clone());
        o.version.push(replayed.version);
        o.created_by.push(order.created_by.0);
        o.created_at.push(order.created_at);
        o.updated_at.push(replayed.updated_at);
        for (column, at) in o.milestones.iter_mut().zip(replayed.milestones) {
            column.push(at);
        }
        for event in &replayed.events {
            e.order.push(order.id.0);
            e.technician.push(event.technician.map(|id| id.0));
            e.kind.push(event.kind.to_owned());
            e.actor.push(event.actor.0);
            e.payload.push(event.payload.clone());
            e.at.push(event.at);
        }
    }
    let [assigned, accepted, en_route, started, completed, closed, cancelled] = &o.milestones;
    sqlx::query!(
        "INSERT INTO orders (id, org_id, number, customer_id, site_id, service_type_id, title, priority, status,
                             held_from, approval_required, technician_id, sla_due_at, scheduled_start, scheduled_end,
                             estimated_duration_minutes,
                             estimated_cost_minor, currency, source, tracking_token, version, created_by, created_at,
                             updated_at, assigned_at, accepted_at, en_route_at, started_at, completed_at, closed_at,
                             cancelled_at)
         SELECT id, $1, number, customer_id, site_id, service_type_id, title, priority::order_priority,
                status::order_status, held_from::order_status, approval_required, technician_id, sla_due_at,
                scheduled_start, scheduled_end, duration, cost, $2, 'web', token, version, created_by, created_at, updated_at, assigned_at,
                accepted_at, en_route_at, started_at, completed_at, closed_at, cancelled_at
         FROM UNNEST($3::uuid[], $4::text[], $5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::text[], $10::text[],
                     $11::text[], $12::bool[], $13::uuid[], $14::timestamptz[], $15::int[], $16::bigint[], $17::text[],
                     $18::int[], $19::uuid[], $20::timestamptz[], $21::timestamptz[], $22::timestamptz[],
                     $23::timestamptz[], $24::timestamptz[], $25::timestamptz[], $26::timestamptz[],
                     $27::timestamptz[], $28::timestamptz[], $29::timestamptz[], $30::timestamptz[])
              AS u(id, number, customer_id, site_id, service_type_id, title, priority, status, held_from,
                   approval_required, technician_id, sla_due_at, duration, cost, token, version, created_by,
                   created_at, updated_at, assigned_at, accepted_at, en_route_at, started_at, completed_at,
                   closed_at, cancelled_at, scheduled_start, scheduled_end)",
        org.0,
        currency.as_str(),
        &o.id,
        &o.number,
        &o.customer,
        &o.site,
        &o.service_type,
        &o.title,
        &o.priority,
        &o.status,
        &o.held_from as &[Option<String>],
        &o.approval,
        &o.technician as &[Option<Uuid>],
        &o.sla_due as &[Option<DateTime<Utc>>],
        &o.duration,
        &o.cost,
        &o.token,
        &o.version,
        &o.created_by,
        &o.created_at,
        &o.updated_at,
        assigned as &[Option<DateTime<Utc>>],
        accepted as &[Option<DateTime<Utc>>],
        en_route as &[Option<DateTime<Utc>>],
        started as &[Option<DateTime<Utc>>],
        completed as &[Option<DateTime<Utc>>],
        closed as &[Option<DateTime<Utc>>],
        cancelled as &[Option<DateTime<Utc>>],
        &o.window_start as &[Option<DateTime<Utc>>],
        &o.window_end as &[Option<DateTime<Utc>>],
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "INSERT INTO order_events (org_id, order_id, technician_id, kind, actor_user_id, channel, payload, created_at)
         SELECT $1, order_id, technician_id, kind, actor, 'web', payload, created_at
         FROM UNNEST($2::uuid[], $3::uuid[], $4::text[], $5::uuid[], $6::jsonb[], $7::timestamptz[])
              AS u(order_id, technician_id, kind, actor, payload, created_at)
         ORDER BY created_at",
        org.0,
        &e.order,
        &e.technician as &[Option<Uuid>],
        &e.kind,
        &e.actor,
        &e.payload,
        &e.at,
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Default)]
struct ReplayedColumns {
    id: Vec<Uuid>,
    number: Vec<String>,
    customer: Vec<Uuid>,
    site: Vec<Uuid>,
    service_type: Vec<Uuid>,
    title: Vec<String>,
    priority: Vec<String>,
    status: Vec<String>,
    held_from: Vec<Option<String>>,
    approval: Vec<bool>,
    technician: Vec<Option<Uuid>>,
    sla_due: Vec<Option<DateTime<Utc>>>,
    window_start: Vec<Option<DateTime<Utc>>>,
    window_end: Vec<Option<DateTime<Utc>>>,
    duration: Vec<i32>,
    cost: Vec<i64>,
    token: Vec<String>,
    version: Vec<i32>,
    created_by: Vec<Uuid>,
    created_at: Vec<DateTime<Utc>>,
    updated_at: Vec<DateTime<Utc>>,
    milestones: [Vec<Option<DateTime<Utc>>>; 7],
}

#[derive(Default)]
struct EventColumns {
    order: Vec<Uuid>,
    technician: Vec<Option<Uuid>>,
    kind: Vec<String>,
    actor: Vec<Uuid>,
    payload: Vec<serde_json::Value>,
    at: Vec<DateTime<Utc>>,
}

/// Whether the organization has customers, and orders, already.
pub async fn present(db: impl PgExecutor<'_>, org: OrgId) -> sqlx::Result<(bool, bool)> {
    let row = sqlx::query!(
        r#"SELECT EXISTS (SELECT 1 FROM customers WHERE org_id = $1) AS "customers!",
                  EXISTS (SELECT 1 FROM orders WHERE org_id = $1) AS "orders!""#,
        org.0,
    )
    .fetch_one(db)
    .await?;
    Ok((row.customers, row.orders))
}

pub async fn sites(db: impl PgExecutor<'_>, org: OrgId) -> sqlx::Result<Vec<(CustomerId, SiteId)>> {
    let rows = sqlx::query!(
        r#"SELECT s.customer_id AS "customer_id: CustomerId", s.id AS "site_id: SiteId"
           FROM customer_sites s WHERE s.org_id = $1 AND s.archived_at IS NULL ORDER BY s.id"#,
        org.0,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| (row.customer_id, row.site_id)).collect())
}

/// A live service type, as past orders use it.
#[derive(Debug)]
pub struct ServiceTypeRow {
    pub id: ServiceTypeId,
    pub name: String,
    pub required_skills: Vec<String>,
    pub approval_required: bool,
    pub duration_minutes: i32,
    pub price_minor: i64,
    pub sla: serde_json::Value,
}

pub async fn service_types(db: impl PgExecutor<'_>, org: OrgId) -> sqlx::Result<Vec<ServiceTypeRow>> {
    sqlx::query_as!(
        ServiceTypeRow,
        r#"SELECT id AS "id: ServiceTypeId", name, required_skills, approval_required,
                  default_duration_minutes AS duration_minutes, default_price_minor AS price_minor, sla
           FROM service_types WHERE org_id = $1 AND archived_at IS NULL ORDER BY code"#,
        org.0,
    )
    .fetch_all(db)
    .await
}

/// An active technician, as past and current orders use them.
#[derive(Debug)]
pub struct TechnicianRow {
    pub id: UserId,
    pub skills: Vec<String>,
    pub hourly_rate_minor: i64,
    pub working_hours: Json<WorkingHours>,
}

pub async fn technicians(db: impl PgExecutor<'_>, org: OrgId) -> sqlx::Result<Vec<TechnicianRow>> {
    sqlx::query_as!(
        TechnicianRow,
        r#"SELECT u.id AS "id: UserId", p.skills, p.hourly_rate_minor,
                  p.working_hours AS "working_hours: Json<WorkingHours>"
           FROM users u JOIN technician_profiles p ON p.user_id = u.id
           WHERE u.org_id = $1 AND u.role = 'technician' AND u.status = 'active' ORDER BY u.id"#,
        org.0,
    )
    .fetch_all(db)
    .await
}

/// The office account that past orders are created and dispatched by: a dispatcher, else an admin.
pub async fn dispatcher(db: impl PgExecutor<'_>, org: OrgId) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users WHERE org_id = $1 AND role IN ('dispatcher', 'admin')
           AND status = 'active' ORDER BY role DESC, id LIMIT 1"#,
        org.0,
    )
    .fetch_optional(db)
    .await
}
