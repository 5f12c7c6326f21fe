use chrono::{DateTime, NaiveDate, Utc};
use domain::api::orders::OrderContact;
use domain::api::scheduling::{BookingView, HolidayView, NewTimeOff, TimeOffKind, TimeOffView};
use domain::orders::OrderStatus;
use domain::{
    Address, CustomerName, HolidayId, OrderId, OrgId, Phone, Priority, Tag, TimeOffId, TimeZone, UserId, WorkingHours,
};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

pub async fn insert_time_off(
    conn: &mut PgConnection,
    org: OrgId,
    technician: UserId,
    time_off: &NewTimeOff,
) -> sqlx::Result<TimeOffView> {
    sqlx::query_as!(
        TimeOffView,
        r#"INSERT INTO time_off (id, org_id, technician_id, kind, starts_at, ends_at, note)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           RETURNING id AS "id: TimeOffId", technician_id AS "technician_id: UserId", kind AS "kind: TimeOffKind",
                     starts_at, ends_at, note, created_at"#,
        TimeOffId::new_v7().0,
        org.0,
        technician.0,
        time_off.kind as TimeOffKind,
        time_off.starts_at,
        time_off.ends_at,
        time_off.note.as_deref(),
    )
    .fetch_one(conn)
    .await
}

/// Time off of these technicians overlapping `[from, to)`, by id after `after` (keyset).
pub async fn time_off_in(
    db: impl PgExecutor<'_>,
    org: OrgId,
    technicians: &[Uuid],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<TimeOffView>> {
    sqlx::query_as!(
        TimeOffView,
        r#"SELECT id AS "id: TimeOffId", technician_id AS "technician_id: UserId", kind AS "kind: TimeOffKind",
                  starts_at, ends_at, note, created_at
           FROM time_off
           WHERE org_id = $1 AND technician_id = ANY ($2) AND tstzrange(starts_at, ends_at) && tstzrange($3, $4)
             AND ($5::uuid IS NULL OR id > $5)
           ORDER BY id
           LIMIT $6"#,
        org.0,
        technicians,
        from,
        to,
        after,
        limit,
    )
    .fetch_all(db)
    .await
}

/// Replaces a time-off period; `None` when there is no such period in the organization.
pub async fn update_time_off(
    conn: &mut PgConnection,
    org: OrgId,
    id: TimeOffId,
    time_off: &NewTimeOff,
) -> sqlx::Result<Option<TimeOffView>> {
    sqlx::query_as!(
        TimeOffView,
        r#"UPDATE time_off SET kind = $3, starts_at = $4, ends_at = $5, note = $6
           WHERE org_id = $1 AND id = $2
           RETURNING id AS "id: TimeOffId", technician_id AS "technician_id: UserId", kind AS "kind: TimeOffKind",
                     starts_at, ends_at, note, created_at"#,
        org.0,
        id.0,
        time_off.kind as TimeOffKind,
        time_off.starts_at,
        time_off.ends_at,
        time_off.note.as_deref(),
    )
    .fetch_optional(conn)
    .await
}

pub async fn find_time_off(conn: &mut PgConnection, org: OrgId, id: TimeOffId) -> sqlx::Result<Option<TimeOffView>> {
    sqlx::query_as!(
        TimeOffView,
        r#"SELECT id AS "id: TimeOffId", technician_id AS "technician_id: UserId", kind AS "kind: TimeOffKind",
                  starts_at, ends_at, note, created_at
           FROM time_off WHERE org_id = $1 AND id = $2 FOR UPDATE"#,
        org.0,
        id.0,
    )
    .fetch_optional(conn)
    .await
}

pub async fn delete_time_off(conn: &mut PgConnection, org: OrgId, id: TimeOffId) -> sqlx::Result<Option<UserId>> {
    sqlx::query_scalar!(
        r#"DELETE FROM time_off WHERE org_id = $1 AND id = $2 RETURNING technician_id AS "technician_id: UserId""#,
        org.0,
        id.0,
    )
    .fetch_optional(conn)
    .await
}

/// None when the organization already has a holiday that day.
pub async fn insert_holiday(
    conn: &mut PgConnection,
    org: OrgId,
    day: NaiveDate,
    name: &str,
) -> sqlx::Result<Option<HolidayView>> {
    sqlx::query_as!(
        HolidayView,
        r#"INSERT INTO holidays (id, org_id, day, name) VALUES ($1, $2, $3, $4)
           ON CONFLICT (org_id, day) DO NOTHING
           RETURNING id AS "id: HolidayId", day, name"#,
        HolidayId::new_v7().0,
        org.0,
        day,
        name,
    )
    .fetch_optional(conn)
    .await
}

/// Holidays from `from` to `to`, both included, in date order; at most a year's worth is asked for.
pub async fn holidays(
    db: impl PgExecutor<'_>,
    org: OrgId,
    from: NaiveDate,
    to: NaiveDate,
) -> sqlx::Result<Vec<HolidayView>> {
    sqlx::query_as!(
        HolidayView,
        r#"SELECT id AS "id: HolidayId", day, name FROM holidays
           WHERE org_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day LIMIT 366"#,
        org.0,
        from,
        to,
    )
    .fetch_all(db)
    .await
}

pub async fn find_holiday(conn: &mut PgConnection, org: OrgId, id: HolidayId) -> sqlx::Result<Option<HolidayView>> {
    sqlx::query_as!(
        HolidayView,
        r#"SELECT id AS "id: HolidayId", day, name FROM holidays WHERE org_id = $1 AND id = $2 FOR UPDATE"#,
        org.0,
        id.0,
    )
    .fetch_optional(conn)
    .await
}

/// None when another holiday of the organization already has that day.
pub async fn update_holiday(
    conn: &mut PgConnection,
    org: OrgId,
    id: HolidayId,
    day: NaiveDate,
    name: &str,
) -> sqlx::Result<Option<HolidayView>> {
    sqlx::query_as!(
        HolidayView,
        r#"UPDATE holidays SET day = $3, name = $4
           WHERE org_id = $1 AND id = $2
             AND NOT EXISTS (SELECT 1 FROM holidays h WHERE h.org_id = $1 AND h.day = $3 AND h.id <> $2)
           RETURNING id AS "id: HolidayId", day, name"#,
        org.0,
        id.0,
        day,
        name,
    )
    .fetch_optional(conn)
    .await
}

pub async fn delete_holiday(conn: &mut PgConnection, org: OrgId, id: HolidayId) -> sqlx::Result<bool> {
    let done = sqlx::query!("DELETE FROM holidays WHERE org_id = $1 AND id = $2", org.0, id.0).execute(conn).await?;
    Ok(done.rows_affected() == 1)
}

/// What scheduling needs to know of a technician.
#[derive(Debug, Clone)]
pub struct TechnicianFacts {
    pub id: UserId,
    pub full_name: String,
    pub time_zone: TimeZone,
    pub working_hours: Json<WorkingHours>,
    pub max_jobs_per_day: i32,
    pub calendar_color: String,
    pub skills: Vec<Tag>,
    pub zones: Vec<Tag>,
}

/// Which active technicians to consider.
#[derive(Debug, Clone, Copy)]
pub enum Pick<'a> {
    /// These, by id.
    Ids(&'a [Uuid]),
    /// Those with every one of `skills`, in `zone` when given.
    Matching { skills: &'a [String], zone: Option<&'a str> },
}

impl Default for Pick<'_> {
    fn default() -> Self {
        Self::Matching { skills: &[], zone: None }
    }
}

#[derive(Debug, Default)]
pub struct FactsFilter<'a> {
    pub pick: Pick<'a>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

pub async fn technician_facts(
    db: impl PgExecutor<'_>,
    org: OrgId,
    filter: &FactsFilter<'_>,
) -> sqlx::Result<Vec<TechnicianFacts>> {
    // Two statements, not one with `$ids IS NULL OR …`: PostgreSQL caches one generic plan per
    // statement, and that one walked every technician (the skills index) to find one by id.
    match filter.pick {
        Pick::Ids(ids) => {
            sqlx::query_as!(
                TechnicianFacts,
                r#"SELECT u.id AS "id: UserId", u.full_name, u.time_zone AS "time_zone: TimeZone",
                      p.working_hours AS "working_hours: Json<WorkingHours>", p.max_jobs_per_day, p.calendar_color,
                      p.skills AS "skills: Vec<Tag>", p.zones AS "zones: Vec<Tag>"
               FROM users u
               JOIN technician_profiles p ON p.user_id = u.id AND p.org_id = u.org_id
               WHERE u.id = ANY ($2) AND u.org_id = $1 AND u.role = 'technician' AND u.status = 'active'
                 AND ($3::uuid IS NULL OR u.id > $3)
               ORDER BY u.id
               LIMIT $4"#,
                org.0,
                ids,
                filter.after,
                filter.limit,
            )
            .fetch_all(db)
            .await
        }
        Pick::Matching { skills, zone } => {
            sqlx::query_as!(
                TechnicianFacts,
                r#"SELECT u.id AS "id: UserId", u.full_name, u.time_zone AS "time_zone: TimeZone",
                      p.working_hours AS "working_hours: Json<WorkingHours>", p.max_jobs_per_day, p.calendar_color,
                      p.skills AS "skills: Vec<Tag>", p.zones AS "zones: Vec<Tag>"
               FROM users u
               JOIN technician_profiles p ON p.user_id = u.id AND p.org_id = u.org_id
               WHERE u.org_id = $1 AND u.role = 'technician' AND u.status = 'active'
                 AND p.skills @> $2::text[]
                 AND ($3::text IS NULL OR $3 = ANY (p.zones))
                 AND ($4::uuid IS NULL OR u.id > $4)
               ORDER BY u.id
               LIMIT $5"#,
                org.0,
                skills,
                zone,
                filter.after,
                filter.limit,
            )
            .fetch_all(db)
            .await
        }
    }
}

/// A booking with what the calendar and the ranking need.
#[derive(Debug, Clone)]
pub struct BookingRow {
    pub technician_id: UserId,
    pub order_id: OrderId,
    pub number: String,
    pub title: String,
    pub status: OrderStatus,
    pub priority: Priority,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub forced: bool,
    pub address: Address,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub customer_name: CustomerName,
    pub customer_phones: Vec<Phone>,
}

impl From<BookingRow> for BookingView {
    fn from(row: BookingRow) -> Self {
        BookingView {
            order_id: row.order_id,
            number: row.number,
            title: row.title,
            status: row.status,
            priority: row.priority,
            start: row.start,
            end: row.end,
            forced: row.forced,
            contact: OrderContact {
                customer_name: row.customer_name,
                phones: row.customer_phones,
                address: row.address.clone(),
            },
            address: row.address.as_str().to_owned(),
        }
    }
}

/// Live bookings of these technicians overlapping `[from, to)`, by technician and start.
/// The exclusion constraint's GiST index serves it.
pub async fn bookings(
    db: impl PgExecutor<'_>,
    org: OrgId,
    technicians: &[Uuid],
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> sqlx::Result<Vec<BookingRow>> {
    sqlx::query_as!(
        BookingRow,
        r#"SELECT o.technician_id AS "technician_id!: UserId", o.id AS "order_id: OrderId", o.number, o.title,
                  o.status AS "status: OrderStatus", o.priority AS "priority: Priority",
                  o.scheduled_start AS "start!", o.scheduled_end AS "end!", o.schedule_forced AS forced,
                  s.address AS "address: Address", s.latitude, s.longitude,
                  c.name AS "customer_name: CustomerName", c.phones AS "customer_phones: Vec<Phone>"
           FROM orders o
           JOIN customer_sites s ON s.id = o.site_id
           JOIN customers c ON c.org_id = o.org_id AND c.id = o.customer_id
           WHERE o.technician_id = ANY ($2) AND o.scheduled_start IS NOT NULL AND o.status <> 'cancelled'
             AND tstzrange(o.scheduled_start, o.scheduled_end) && tstzrange($3, $4)
             AND o.org_id = $1
           ORDER BY o.technician_id, o.scheduled_start"#,
        org.0,
        technicians,
        from,
        to,
    )
    .fetch_all(db)
    .await
}

/// The live booking of `technician` overlapping `[start, end)`, other than `except`'s.
pub async fn colliding(
    db: impl PgExecutor<'_>,
    org: OrgId,
    technician: UserId,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    except: OrderId,
) -> sqlx::Result<Option<(OrderId, String, DateTime<Utc>, DateTime<Utc>)>> {
    let row = sqlx::query!(
        r#"SELECT id AS "id: OrderId", number, scheduled_start AS "start!", scheduled_end AS "end!"
           FROM orders
           WHERE technician_id = $2 AND scheduled_start IS NOT NULL AND status <> 'cancelled'
             AND tstzrange(scheduled_start, scheduled_end) && tstzrange($3, $4)
             AND org_id = $1 AND id <> $5
           LIMIT 1"#,
        org.0,
        technician.0,
        start,
        end,
        except.0,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.id, r.number, r.start, r.end)))
}

/// Writes the order's booking. The exclusion constraint refuses an overlap (SQLSTATE 23P01).
pub async fn set_booking(
    conn: &mut PgConnection,
    org: OrgId,
    order: OrderId,
    technician: UserId,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    forced: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE orders SET technician_id = $3, scheduled_start = $4, scheduled_end = $5, schedule_forced = $6,
                version = version + 1, updated_at = now()
         WHERE org_id = $1 AND id = $2",
        org.0,
        order.0,
        technician.0,
        start,
        end,
        forced,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets whether the order's current booking was forced past working hours or time off.
pub async fn set_forced(conn: &mut PgConnection, org: OrgId, order: OrderId, forced: bool) -> sqlx::Result<()> {
    sqlx::query!("UPDATE orders SET schedule_forced = $3 WHERE org_id = $1 AND id = $2", org.0, order.0, forced)
        .execute(conn)
        .await?;
    Ok(())
}

/// What an order asks of its technician: skills from its service type, zone and place from its site.
#[derive(Debug, Clone)]
pub struct Requirement {
    pub skills: Vec<Tag>,
    pub zone: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

pub async fn requirement(db: impl PgExecutor<'_>, org: OrgId, order: OrderId) -> sqlx::Result<Option<Requirement>> {
    sqlx::query_as!(
        Requirement,
        r#"SELECT t.required_skills AS "skills: Vec<Tag>", s.zone, s.latitude, s.longitude
           FROM orders o
           JOIN service_types t ON t.org_id = o.org_id AND t.id = o.service_type_id
           JOIN customer_sites s ON s.org_id = o.org_id AND s.id = o.site_id
           WHERE o.org_id = $1 AND o.id = $2"#,
        org.0,
        order.0,
    )
    .fetch_optional(db)
    .await
}

/// Replaces (or with `None` removes) the hash of a technician's calendar feed secret.
pub async fn set_feed_hash(
    conn: &mut PgConnection,
    org: OrgId,
    technician: UserId,
    hash: Option<&[u8]>,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "UPDATE technician_profiles SET calendar_feed_hash = $3, updated_at = now() WHERE org_id = $1 AND user_id = $2",
        org.0,
        technician.0,
        hash,
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The active technician whose feed secret hashes to `hash`.
pub async fn technician_by_feed(db: impl PgExecutor<'_>, hash: &[u8]) -> sqlx::Result<Option<(OrgId, UserId, String)>> {
    let row = sqlx::query!(
        r#"SELECT u.org_id AS "org_id: OrgId", u.id AS "id: UserId", u.full_name
           FROM technician_profiles p JOIN users u ON u.id = p.user_id
           WHERE p.calendar_feed_hash = $1 AND u.status = 'active'"#,
        hash,
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.org_id, r.id, r.full_name)))
}

/// Every live booking of the organization, for planners that must not collide with them.
pub async fn all_bookings(
    db: impl PgExecutor<'_>,
    org: OrgId,
) -> sqlx::Result<Vec<(UserId, DateTime<Utc>, DateTime<Utc>)>> {
    let rows = sqlx::query!(
        r#"SELECT technician_id AS "technician_id!: UserId", scheduled_start AS "start!", scheduled_end AS "end!"
           FROM orders
           WHERE org_id = $1 AND technician_id IS NOT NULL AND scheduled_start IS NOT NULL AND status <> 'cancelled'"#,
        org.0,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.technician_id, r.start, r.end)).collect())
}
