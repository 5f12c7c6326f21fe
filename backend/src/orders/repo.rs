use chrono::{DateTime, Utc};
use domain::api::Money;
use domain::api::order_list::{OrderCursor, OrderSort, SortKey};
use domain::api::orders::{
    EventChannel, Milestones, OrderChanges, OrderContact, OrderEventView, OrderSource, OrderView, SlaState,
};
use domain::orders::{OrderState, OrderStatus, sla};
use domain::{
    Address, Currency, CustomerId, CustomerName, OrderId, OrgId, Phone, Priority, ServiceTypeId, SiteId, UserId,
};
use sqlx::{PgConnection, PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

/// Which orders to read. `technician` is also how a technician's scope is enforced.
#[derive(Debug, Default)]
pub struct OrderFilter<'a> {
    pub id: Option<OrderId>,
    /// Any of these; empty: every status.
    pub statuses: &'a [OrderStatus],
    pub technician: Option<UserId>,
    pub customer: Option<CustomerId>,
    pub service_type: Option<ServiceTypeId>,
    pub priority: Option<Priority>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// Free text, matched by [`text_matches`] and [`customer_matches`] or, when either finds too
    /// many, row by row.
    pub text: Option<TextFilter<'a>>,
    pub sort: OrderSort,
    /// Only orders after this one in `sort` order.
    pub after: Option<OrderCursor>,
    pub limit: i64,
}

/// A free-text filter: the orders found by the trigram index and the orders of the customers
/// found by theirs, or the search itself when it matches so many that walking the sorted list
/// finds a page sooner.
#[derive(Debug)]
pub enum TextFilter<'a> {
    Among { orders: &'a [Uuid], customers: &'a [Uuid] },
    Like(&'a TextSearch),
}

/// A free-text search as `LIKE` patterns, with the wildcards of the input escaped.
#[derive(Debug)]
pub struct TextSearch {
    /// In lower case: matches the order's text and, case-insensitively, its customer's name.
    pub text: String,
    /// Matches its customer's phone numbers (stored as E.164: `+` and digits).
    pub phone: Option<String>,
}

/// The searched text of an order; `orders_text` indexes exactly this expression.
const SEARCHED_TEXT: &str = "lower(number || ' ' || title || ' ' || description)";

/// An order row as stored; `into_view` adds what depends on the reader and the clock.
#[derive(Debug, sqlx::FromRow)]
pub struct OrderRow {
    pub id: OrderId,
    pub number: String,
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub service_type_id: ServiceTypeId,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub status: OrderStatus,
    pub held_from: Option<OrderStatus>,
    pub approval_required: bool,
    pub technician_id: Option<UserId>,
    pub scheduled_start: Option<DateTime<Utc>>,
    pub scheduled_end: Option<DateTime<Utc>>,
    pub schedule_forced: bool,
    pub sla_due_at: Option<DateTime<Utc>>,
    pub estimated_duration_minutes: Option<i32>,
    pub estimated_cost_minor: Option<i64>,
    pub currency: Currency,
    pub source: OrderSource,
    pub tracking_token: String,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub assigned_at: Option<DateTime<Utc>>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub en_route_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub customer_name: CustomerName,
    pub customer_phones: Vec<Phone>,
    pub site_address: Address,
}

impl OrderRow {
    pub fn state(&self) -> OrderState {
        OrderState { status: self.status, held_from: self.held_from, approval_required: self.approval_required }
    }

    /// At risk by `domain::orders::sla`: in the last fifth of the time from creation to the due time.
    pub fn sla(&self, now: DateTime<Utc>) -> SlaState {
        let Some(due) = self.sla_due_at else { return SlaState::OnTrack };
        let finished = self
            .completed_at
            .or(self.cancelled_at)
            .filter(|_| matches!(self.status, OrderStatus::Completed | OrderStatus::Closed | OrderStatus::Cancelled));
        let at = finished.unwrap_or(now);
        if at > due {
            SlaState::Breached
        } else if finished.is_none() && at > sla::at_risk_from(self.created_at, due) {
            SlaState::AtRisk
        } else {
            SlaState::OnTrack
        }
    }

    /// `public_base` is the site's public URL, for the customer's tracking link; `with_contact`
    /// whether the reader may see whom to call.
    pub fn into_view(
        self,
        allowed_actions: Vec<domain::orders::OrderAction>,
        now: DateTime<Utc>,
        public_base: &str,
        with_contact: bool,
    ) -> OrderView {
        let sla = self.sla(now);
        let tracking_url = format!("{public_base}/t/{}", self.tracking_token);
        let contact = with_contact.then_some(OrderContact {
            customer_name: self.customer_name,
            phones: self.customer_phones,
            address: self.site_address,
        });
        OrderView {
            id: self.id,
            number: self.number,
            customer_id: self.customer_id,
            site_id: self.site_id,
            service_type_id: self.service_type_id,
            title: self.title,
            description: self.description,
            priority: self.priority,
            status: self.status,
            technician_id: self.technician_id,
            scheduled_start: self.scheduled_start,
            scheduled_end: self.scheduled_end,
            schedule_forced: self.schedule_forced,
            sla_due_at: self.sla_due_at,
            sla,
            estimated_duration_minutes: self.estimated_duration_minutes,
            estimated_cost: self
                .estimated_cost_minor
                .map(|amount_minor| Money { amount_minor, currency: self.currency }),
            source: self.source,
            approval_required: self.approval_required,
            version: self.version,
            milestones: Milestones {
                assigned_at: self.assigned_at,
                accepted_at: self.accepted_at,
                en_route_at: self.en_route_at,
                started_at: self.started_at,
                completed_at: self.completed_at,
                closed_at: self.closed_at,
                cancelled_at: self.cancelled_at,
            },
            created_at: self.created_at,
            updated_at: self.updated_at,
            allowed_actions,
            tracking_url,
            contact,
        }
    }
}

/// What a sort orders rows by, before the id that breaks ties.
#[derive(Debug, Clone, Copy)]
enum SortColumn {
    /// The id alone: ids are time-ordered, so this is creation order.
    Id,
    /// A time column; a missing time sorts as `missing` (an infinity), last either way, so keys
    /// never compare with NULL and the `orders_sort_*` expression indexes serve order and cursor.
    Time {
        column: &'static str,
        missing: &'static str,
    },
    Priority,
}

/// The column and direction of a sort.
fn sort_spec(sort: OrderSort) -> (SortColumn, &'static str) {
    const LAST_ASCENDING: &str = "'infinity'::timestamptz";
    const LAST_DESCENDING: &str = "'-infinity'::timestamptz";
    match sort {
        OrderSort::Newest => (SortColumn::Id, "DESC"),
        OrderSort::Oldest => (SortColumn::Id, "ASC"),
        OrderSort::Scheduled => (SortColumn::Time { column: "scheduled_start", missing: LAST_ASCENDING }, "ASC"),
        OrderSort::ScheduledDesc => (SortColumn::Time { column: "scheduled_start", missing: LAST_DESCENDING }, "DESC"),
        OrderSort::Due => (SortColumn::Time { column: "sla_due_at", missing: LAST_ASCENDING }, "ASC"),
        OrderSort::Priority => (SortColumn::Priority, "DESC"),
    }
}

/// Appends `ORDER BY` for the sort, after the cursor condition `(key, id) > (cursor key, cursor id)`
/// (`<` for descending sorts) when there is a cursor.
fn push_order(query: &mut QueryBuilder<Postgres>, sort: OrderSort, after: Option<&OrderCursor>) {
    let (column, direction) = sort_spec(sort);
    let operator = if direction == "DESC" { "<" } else { ">" };
    if let Some(after) = after {
        match (column, after.key) {
            (SortColumn::Time { column, missing }, SortKey::At(at)) => {
                query.push(format_args!(" AND (COALESCE({column}, {missing}), id) {operator} (COALESCE("));
                query.push_bind(at).push(format_args!("::timestamptz, {missing}), "));
            }
            (SortColumn::Priority, SortKey::Priority(priority)) => {
                query.push(format_args!(" AND (priority, id) {operator} (")).push_bind(priority).push(", ");
            }
            // By id alone; the service checks that a cursor's key fits its sort.
            _ => {
                query.push(format_args!(" AND (id) {operator} ("));
            }
        }
        query.push_bind(after.id).push(")");
    }
    query.push(" ORDER BY ");
    match column {
        SortColumn::Id => {}
        SortColumn::Time { column, missing } => {
            query.push(format_args!("COALESCE({column}, {missing}) {direction}, "));
        }
        SortColumn::Priority => {
            query.push(format_args!("priority {direction}, "));
        }
    }
    query.push(format_args!("id {direction}"));
}

pub async fn select(db: impl PgExecutor<'_>, org: OrgId, filter: &OrderFilter<'_>) -> sqlx::Result<Vec<OrderRow>> {
    let mut query = QueryBuilder::new(
        "SELECT id, number, customer_id, site_id, service_type_id, title, description, priority, status, held_from,
                approval_required, technician_id, scheduled_start, scheduled_end, schedule_forced, sla_due_at,
                estimated_duration_minutes, estimated_cost_minor, currency, source, tracking_token, version,
                created_at, updated_at, assigned_at, accepted_at, en_route_at, started_at, completed_at, closed_at,
                cancelled_at, customer_name, customer_phones, site_address
         FROM orders
         -- The contact, by primary keys; its own names keep the columns of `orders` unqualified.
         CROSS JOIN LATERAL (
             SELECT c.name AS customer_name, c.phones AS customer_phones, s.address AS site_address
             FROM customers c JOIN customer_sites s ON s.org_id = c.org_id AND s.customer_id = c.id
             WHERE c.org_id = orders.org_id AND c.id = orders.customer_id AND s.id = orders.site_id) contact
         WHERE org_id = ",
    );
    push_filters(&mut query, org, filter);
    push_order(&mut query, filter.sort, filter.after.as_ref());
    query.push(" LIMIT ").push_bind(filter.limit);
    query.build_query_as().fetch_all(db).await
}

/// How many orders the filter matches in all (its cursor and limit aside); with a `cap`, counting
/// stops after `cap + 1`, so a broad filter costs no more than that many rows.
pub async fn count(
    db: impl PgExecutor<'_>,
    org: OrgId,
    filter: &OrderFilter<'_>,
    cap: Option<i64>,
) -> sqlx::Result<i64> {
    let mut query = QueryBuilder::new("SELECT count(*) FROM (SELECT FROM orders WHERE org_id = ");
    push_filters(&mut query, org, filter);
    if let Some(cap) = cap {
        query.push(" LIMIT ").push_bind(cap + 1);
    }
    query.push(") matched");
    query.build_query_scalar().fetch_one(db).await
}

/// The organization and every filter but the cursor, as `AND` conditions.
fn push_filters(query: &mut QueryBuilder<Postgres>, org: OrgId, filter: &OrderFilter<'_>) {
    query.push_bind(org.0);
    if let Some(id) = filter.id {
        query.push(" AND id = ").push_bind(id.0);
    }
    if !filter.statuses.is_empty() {
        query.push(" AND status = ANY(").push_bind(filter.statuses).push(")");
    }
    if let Some(technician) = filter.technician {
        query.push(" AND technician_id = ").push_bind(technician.0);
    }
    if let Some(customer) = filter.customer {
        query.push(" AND customer_id = ").push_bind(customer.0);
    }
    if let Some(service_type) = filter.service_type {
        query.push(" AND service_type_id = ").push_bind(service_type.0);
    }
    if let Some(priority) = filter.priority {
        query.push(" AND priority = ").push_bind(priority);
    }
    if let Some(from) = filter.from {
        query.push(" AND scheduled_start >= ").push_bind(from);
    }
    if let Some(to) = filter.to {
        query.push(" AND scheduled_start < ").push_bind(to);
    }
    if filter.overdue {
        query.push(" AND sla_due_at < now() AND status NOT IN ('completed', 'closed', 'cancelled')");
    }
    match filter.text {
        Some(TextFilter::Among { orders, customers: [] }) => {
            query.push(" AND id = ANY(").push_bind(orders).push(")");
        }
        Some(TextFilter::Among { orders, customers }) => {
            query.push(" AND (id = ANY(").push_bind(orders).push(") OR customer_id = ANY(");
            query.push_bind(customers).push("))");
        }
        Some(TextFilter::Like(search)) => {
            query.push(format_args!(" AND ({SEARCHED_TEXT} LIKE ")).push_bind(&search.text);
            // Hashed once by the planner, then probed per order along the sort.
            query.push(" OR customer_id IN (SELECT id FROM customers WHERE ");
            push_customer_search(query, org, search);
            query.push("))");
        }
        None => {}
    }
}

/// The customers of the organization a search matches, by name or phone: each arm has its
/// trigram index (`customers_name_trgm`, `customers_phones_trgm`).
fn push_customer_search(query: &mut QueryBuilder<Postgres>, org: OrgId, search: &TextSearch) {
    query.push("org_id = ").push_bind(org.0).push(" AND (name ILIKE ").push_bind(&search.text);
    if let Some(phone) = &search.phone {
        query.push(" OR customer_phones_text(phones) LIKE ").push_bind(phone);
    }
    query.push(")");
}

/// Ids of the customers a search matches, through their trigram indexes; `None` when there are
/// more than `cap`.
pub async fn customer_matches(
    db: impl PgExecutor<'_>,
    org: OrgId,
    search: &TextSearch,
    cap: i64,
) -> sqlx::Result<Option<Vec<Uuid>>> {
    let mut query = QueryBuilder::new("SELECT id FROM customers WHERE ");
    push_customer_search(&mut query, org, search);
    query.push(" LIMIT ").push_bind(cap + 1);
    let ids: Vec<Uuid> = query.build_query_scalar().fetch_all(db).await?;
    Ok((ids.len() as i64 <= cap).then_some(ids))
}

/// Ids of the orders whose text contains `pattern` (a `LIKE` pattern), through the trigram index;
/// `None` when there are more than `cap`.
pub async fn text_matches(
    db: impl PgExecutor<'_>,
    org: OrgId,
    pattern: &str,
    cap: i64,
) -> sqlx::Result<Option<Vec<Uuid>>> {
    let ids = sqlx::query_scalar!(
        "SELECT id FROM orders WHERE org_id = $1 AND lower(number || ' ' || title || ' ' || description) LIKE $2 LIMIT $3",
        org.0,
        pattern,
        cap + 1,
    )
    .fetch_all(db)
    .await?;
    Ok((ids.len() as i64 <= cap).then_some(ids))
}

pub async fn find(db: impl PgExecutor<'_>, org: OrgId, id: OrderId) -> sqlx::Result<Option<OrderRow>> {
    let filter = OrderFilter { id: Some(id), limit: 1, ..OrderFilter::default() };
    Ok(select(db, org, &filter).await?.into_iter().next())
}

/// Locks the order row for the rest of the transaction, so actions on one order run one at a time.
pub async fn lock(conn: &mut PgConnection, org: OrgId, id: OrderId) -> sqlx::Result<bool> {
    let locked = sqlx::query_scalar!("SELECT id FROM orders WHERE org_id = $1 AND id = $2 FOR UPDATE", org.0, id.0)
        .fetch_optional(conn)
        .await?;
    Ok(locked.is_some())
}

/// What a new order takes from its service type, if the type is usable (in the organization, not archived).
#[derive(Debug)]
pub struct ServiceTypeDefaults {
    pub duration_minutes: i32,
    pub price_minor: i64,
    pub approval_required: bool,
    /// The SLA target of the order's priority, if the type sets one.
    pub sla_minutes: Option<i32>,
}

pub async fn service_type_defaults(
    db: impl PgExecutor<'_>,
    org: OrgId,
    id: ServiceTypeId,
    priority: Priority,
) -> sqlx::Result<Option<ServiceTypeDefaults>> {
    sqlx::query_as!(
        ServiceTypeDefaults,
        r#"SELECT default_duration_minutes AS duration_minutes, default_price_minor AS price_minor, approval_required,
                  (sla ->> $3::text)::integer AS sla_minutes
           FROM service_types WHERE org_id = $1 AND id = $2 AND archived_at IS NULL"#,
        org.0,
        id.0,
        priority.as_str(),
    )
    .fetch_optional(db)
    .await
}

/// Whether the site belongs to the customer: `None` when the organization has no such live
/// customer, else whether the site is a live site of it.
pub async fn site_of_customer(
    db: impl PgExecutor<'_>,
    org: OrgId,
    customer: CustomerId,
    site: SiteId,
) -> sqlx::Result<Option<bool>> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT FROM customer_sites s
                          WHERE s.org_id = c.org_id AND s.customer_id = c.id AND s.id = $3 AND s.archived_at IS NULL)
                  AS "site_of_customer!"
           FROM customers c WHERE c.org_id = $1 AND c.id = $2 AND c.archived_at IS NULL"#,
        org.0,
        customer.0,
        site.0,
    )
    .fetch_optional(db)
    .await
}

/// The next number of the organization's year, counted under a row lock.
pub async fn next_number(conn: &mut PgConnection, org: OrgId, year: i32) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        "INSERT INTO order_number_counters (org_id, year, last_value) VALUES ($1, $2, 1)
         ON CONFLICT (org_id, year) DO UPDATE SET last_value = order_number_counters.last_value + 1
         RETURNING last_value",
        org.0,
        year,
    )
    .fetch_one(conn)
    .await
}

#[derive(Debug)]
pub struct InsertOrder<'a> {
    pub id: OrderId,
    pub org: OrgId,
    pub number: &'a str,
    pub new: &'a domain::api::orders::NewOrder,
    pub approval_required: bool,
    pub sla_due_at: Option<DateTime<Utc>>,
    pub duration_minutes: i32,
    pub cost_minor: i64,
    pub currency: &'a Currency,
    pub source: OrderSource,
    pub tracking_token: &'a str,
    pub created_by: Option<UserId>,
}

pub async fn insert(conn: &mut PgConnection, order: &InsertOrder<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "INSERT INTO orders (id, org_id, number, customer_id, site_id, service_type_id, title, description, priority,
                             approval_required, scheduled_start, scheduled_end, sla_due_at,
                             estimated_duration_minutes, estimated_cost_minor, currency, source, tracking_token,
                             created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        order.id.0,
        order.org.0,
        order.number,
        order.new.customer_id.0,
        order.new.site_id.0,
        order.new.service_type_id.0,
        order.new.title,
        order.new.description,
        order.new.priority as Priority,
        order.approval_required,
        order.new.window.map(|(start, _)| start),
        order.new.window.map(|(_, end)| end),
        order.sla_due_at,
        order.duration_minutes,
        order.cost_minor,
        order.currency.as_str(),
        order.source as OrderSource,
        order.tracking_token,
        order.created_by.map(|id| id.0),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Applies field changes if the order is still at `version`; false when it is not (or is gone).
pub async fn update_fields(
    conn: &mut PgConnection,
    org: OrgId,
    id: OrderId,
    version: i32,
    changes: &OrderChanges,
) -> sqlx::Result<bool> {
    let window = changes.window.map(|w| (w.map(|(start, _)| start), w.map(|(_, end)| end)));
    let done = sqlx::query!(
        "UPDATE orders SET
            title = COALESCE($4, title),
            description = COALESCE($5, description),
            priority = COALESCE($6, priority),
            scheduled_start = CASE WHEN $7 THEN $8 ELSE scheduled_start END,
            scheduled_end = CASE WHEN $7 THEN $9 ELSE scheduled_end END,
            estimated_cost_minor = CASE WHEN $10 THEN $11 ELSE estimated_cost_minor END,
            version = version + 1,
            updated_at = now()
         WHERE org_id = $1 AND id = $2 AND version = $3",
        org.0,
        id.0,
        version,
        changes.title.as_deref(),
        changes.description.as_deref(),
        changes.priority as Option<Priority>,
        window.is_some(),
        window.and_then(|(start, _)| start),
        window.and_then(|(_, end)| end),
        changes.estimated_cost_minor.is_some(),
        changes.estimated_cost_minor.flatten(),
    )
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves the order to `to`, stamping the milestone of the new status and, when given, setting the technician.
pub async fn apply_transition(
    conn: &mut PgConnection,
    org: OrgId,
    id: OrderId,
    to: OrderStatus,
    held_from: Option<OrderStatus>,
    technician: Option<Option<UserId>>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE orders SET
            status = $3::order_status,
            held_from = $4,
            technician_id = CASE WHEN $5 THEN $6 ELSE technician_id END,
            assigned_at = CASE WHEN $3::order_status = 'assigned' THEN now() ELSE assigned_at END,
            accepted_at = CASE WHEN $3::order_status = 'accepted' THEN now() ELSE accepted_at END,
            en_route_at = CASE WHEN $3::order_status = 'en_route' THEN now() ELSE en_route_at END,
            started_at = CASE WHEN $3::order_status = 'in_progress' THEN COALESCE(started_at, now()) ELSE started_at END,
            completed_at = CASE WHEN $3::order_status = 'completed' OR ($3::order_status = 'closed' AND completed_at IS NULL) THEN now()
                                ELSE completed_at END,
            closed_at = CASE WHEN $3::order_status = 'closed' THEN now() ELSE closed_at END,
            cancelled_at = CASE WHEN $3::order_status = 'cancelled' THEN now() ELSE cancelled_at END,
            version = version + 1,
            updated_at = now()
         WHERE org_id = $1 AND id = $2",
        org.0,
        id.0,
        to as OrderStatus,
        held_from as Option<OrderStatus>,
        technician.is_some(),
        technician.flatten().map(|id| id.0),
    )
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug)]
pub struct NewEvent<'a> {
    pub org: OrgId,
    pub order: OrderId,
    pub technician: Option<UserId>,
    pub kind: &'a str,
    pub actor: Option<UserId>,
    pub channel: EventChannel,
    pub payload: serde_json::Value,
}

/// Records the event and queues it in the outbox, in one statement of the caller's transaction: the
/// change, its history and its announcement commit or vanish together.
pub async fn insert_event(conn: &mut PgConnection, event: &NewEvent<'_>) -> sqlx::Result<()> {
    sqlx::query!(
        "WITH event AS (
            INSERT INTO order_events (org_id, order_id, technician_id, kind, actor_user_id, channel, payload)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            RETURNING id, org_id)
         INSERT INTO outbox (org_id, event_id) SELECT org_id, id FROM event",
        event.org.0,
        event.order.0,
        event.technician.map(|id| id.0),
        event.kind,
        event.actor.map(|id| id.0),
        event.channel as EventChannel,
        event.payload,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The order's timeline, oldest first, keyset-paged by event id.
pub async fn events(
    db: impl PgExecutor<'_>,
    org: OrgId,
    order: OrderId,
    after: Option<i64>,
    limit: i64,
) -> sqlx::Result<Vec<OrderEventView>> {
    sqlx::query_as!(
        OrderEventView,
        r#"SELECT id, kind, actor_user_id AS "actor_user_id: UserId", channel AS "channel: EventChannel", payload, created_at
           FROM order_events
           WHERE org_id = $1 AND order_id = $2 AND ($3::bigint IS NULL OR id > $3)
           ORDER BY id
           LIMIT $4"#,
        org.0,
        order.0,
        after,
        limit,
    )
    .fetch_all(db)
    .await
}
