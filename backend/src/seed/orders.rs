//! Past orders for the demo and the benchmark: statuses spread as in a real month, technicians with
//! the right skills, plausible gaps between steps, all in the past, checked by the state machine.

use crate::orders::history::{self, PastOrder, PastStep, Replayed};
use crate::orders::repo as orders_repo;
use crate::orders::work_repo::{self, StoredReport};
use crate::state::AppState;
use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, Utc};
use domain::api::orders::{ReportPart, WorkReport};
use domain::orders::OrderAction;
use domain::orders::report::{ReportTotals, totals};
use domain::{CustomerId, OrderId, OrgId, Priority, Role, ServiceTypeId, SiteId, UserId};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// What past orders are made of: the organization's customers, service types and people.
#[derive(Debug)]
struct Catalog {
    sites: Vec<(CustomerId, SiteId)>,
    service_types: Vec<ServiceTypeRow>,
    technicians: Vec<(UserId, Vec<String>)>,
    hourly_rates: HashMap<UserId, i64>,
    dispatcher: UserId,
    currency: domain::Currency,
}

#[derive(Debug)]
struct ServiceTypeRow {
    id: ServiceTypeId,
    name: String,
    required_skills: Vec<String>,
    approval_required: bool,
    duration_minutes: i32,
    price_minor: i64,
    sla: serde_json::Value,
}

async fn catalog(state: &AppState, org: OrgId) -> anyhow::Result<Catalog> {
    let sites = sqlx::query!(
        r#"SELECT s.customer_id AS "customer_id: CustomerId", s.id AS "site_id: SiteId"
           FROM customer_sites s WHERE s.org_id = $1 AND s.archived_at IS NULL ORDER BY s.id"#,
        org.0,
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|row| (row.customer_id, row.site_id))
    .collect();
    let service_types = sqlx::query_as!(
        ServiceTypeRow,
        r#"SELECT id AS "id: ServiceTypeId", name, required_skills, approval_required,
                  default_duration_minutes AS duration_minutes, default_price_minor AS price_minor, sla
           FROM service_types WHERE org_id = $1 AND archived_at IS NULL ORDER BY code"#,
        org.0,
    )
    .fetch_all(&state.db)
    .await?;
    let rows = sqlx::query!(
        r#"SELECT u.id AS "id: UserId", p.skills, p.hourly_rate_minor
           FROM users u JOIN technician_profiles p ON p.user_id = u.id
           WHERE u.org_id = $1 AND u.role = 'technician' AND u.status = 'active' ORDER BY u.id"#,
        org.0,
    )
    .fetch_all(&state.db)
    .await?;
    let hourly_rates = rows.iter().map(|row| (row.id, row.hourly_rate_minor)).collect();
    let technicians = rows.into_iter().map(|row| (row.id, row.skills)).collect();
    let dispatcher = sqlx::query_scalar!(
        r#"SELECT id AS "id: UserId" FROM users WHERE org_id = $1 AND role IN ('dispatcher', 'admin')
           AND status = 'active' ORDER BY role DESC, id LIMIT 1"#,
        org.0,
    )
    .fetch_optional(&state.db)
    .await?
    .context("past orders need a dispatcher or an admin")?;
    let currency = crate::orgs::repo::find(&state.db, org).await?.context("organization")?.currency;
    Ok(Catalog { sites, service_types, technicians, hourly_rates, dispatcher, currency })
}

/// Where a past order ended, with its weight in a realistic mix.
const ENDINGS: [(&str, u32); 9] = [
    ("new", 6),
    ("assigned", 6),
    ("accepted", 5),
    ("en_route", 3),
    ("in_progress", 6),
    ("on_hold", 3),
    ("completed", 9),
    ("closed", 50),
    ("cancelled", 12),
];

const PROBLEMS: [&str; 6] = [
    "does not start",
    "leaks water",
    "makes a loud noise",
    "shows an error code",
    "needs scheduled maintenance",
    "trips the breaker",
];

/// What technicians write in the reports of finished work: a summary and the part they fitted.
const REPAIRS: [(&str, &str, i64); 5] = [
    ("Replaced the drain pump, cleaned the filter, ran a full cycle", "Drain pump", 240_000),
    ("Replaced the door seal and checked for leaks", "Door seal", 180_000),
    ("Fitted a new capacitor and tested under load", "Run capacitor", 95_000),
    ("Tightened the terminals and replaced a breaker", "Circuit breaker 16 A", 60_000),
    ("Serviced the unit, refilled refrigerant, checked pressures", "Refrigerant R32, kg", 150_000),
];

/// The report a finished order's technician filed with `complete`: labour from start to completion.
fn past_report(
    replayed: &Replayed,
    hourly_rates: &HashMap<UserId, i64>,
    rng: &mut StdRng,
) -> Option<(WorkReport, ReportTotals, UserId, DateTime<Utc>)> {
    let [_, _, _, Some(started), Some(completed), _, _] = replayed.milestones else { return None };
    let technician = replayed.technician?;
    let (summary, part, price) = *REPAIRS.choose(rng)?;
    let quantity_thousandths = 1000 * rng.random_range(1..=2);
    let labour_minutes = u32::try_from((completed - started).num_minutes().clamp(15, 8 * 60)).ok()?;
    let report = WorkReport {
        summary: summary.to_owned(),
        parts: vec![ReportPart { name: part.to_owned(), quantity_thousandths, unit_price_minor: price }],
        labour_minutes,
        signature_attachment_id: None,
    };
    let rate = hourly_rates.get(&technician).copied().unwrap_or_default();
    let totals = totals(&[(quantity_thousandths, price)], labour_minutes, rate)?;
    Some((report, totals, technician, completed))
}

/// The windows already given to each technician, so planned orders never double-book anyone
/// (the database would refuse them).
#[derive(Debug, Default)]
struct Booked(HashMap<UserId, BTreeMap<DateTime<Utc>, DateTime<Utc>>>);

impl Booked {
    /// Books the first free window of `length` starting at `wanted` or up to a day later, by the hour.
    fn reserve(
        &mut self,
        technician: UserId,
        wanted: DateTime<Utc>,
        length: Duration,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let taken = self.0.entry(technician).or_default();
        let start = (0..24).map(|hours| wanted + Duration::hours(hours)).find(|start| {
            // Windows never overlap, so the last one starting before this one ends is the only one that could.
            taken.range(..*start + length).next_back().is_none_or(|(_, end)| end <= start)
        })?;
        taken.insert(start, start + length);
        Some((start, start + length))
    }
}

fn plan(
    catalog: &Catalog,
    booked: &mut Booked,
    rng: &mut StdRng,
    now: DateTime<Utc>,
    span: Duration,
) -> Option<PastOrder> {
    let (customer_id, site_id) = *catalog.sites.choose(rng)?;
    let service_type = catalog.service_types.choose(rng)?;
    let able: Vec<UserId> = catalog
        .technicians
        .iter()
        .filter(|(_, skills)| service_type.required_skills.iter().all(|s| skills.contains(s)))
        .map(|(id, _)| *id)
        .collect();
    let ending = ENDINGS.choose_weighted(rng, |(_, weight)| *weight).ok()?.0;
    // Open orders are recent; finished ones anywhere in the span.
    let finished = matches!(ending, "completed" | "closed" | "cancelled");
    let age = if finished { span } else { Duration::days(7).min(span) };
    let created_at = now - Duration::seconds(rng.random_range(3600..age.num_seconds().max(3601)));
    let priority =
        *[Priority::Low, Priority::Normal, Priority::Normal, Priority::High, Priority::Urgent].choose(rng)?;
    let mut steps = Vec::new();
    let mut at = created_at;
    let next = |rng: &mut StdRng, at: &mut DateTime<Utc>| {
        *at += Duration::minutes(rng.random_range(5..600));
        *at
    };
    let dispatcher = catalog.dispatcher;
    let dispatch = |action: OrderAction, technician: Option<UserId>, reason: Option<&str>, at| PastStep {
        action,
        by: dispatcher,
        role: Role::Dispatcher,
        technician,
        reason: reason.map(str::to_owned),
        at,
    };
    let mut technician = None;
    if ending != "new" && !(ending == "cancelled" && rng.random_bool(0.5)) {
        let first = *able.choose(rng)?;
        steps.push(dispatch(OrderAction::Assign, Some(first), None, next(rng, &mut at)));
        technician = Some(first);
        if able.len() > 1 && rng.random_bool(0.1) {
            steps.push(PastStep {
                action: OrderAction::Decline,
                by: first,
                role: Role::Technician,
                technician: None,
                reason: Some("too far from my other jobs".into()),
                at: next(rng, &mut at),
            });
            let second = *able.iter().filter(|t| **t != first).collect::<Vec<_>>().choose(rng)?;
            steps.push(dispatch(OrderAction::Assign, Some(*second), None, next(rng, &mut at)));
            technician = Some(*second);
        }
    }
    let path: &[OrderAction] = match ending {
        "accepted" => &[OrderAction::Accept],
        "en_route" => &[OrderAction::Accept, OrderAction::Depart],
        "in_progress" => &[OrderAction::Accept, OrderAction::Depart, OrderAction::Start],
        "on_hold" => &[OrderAction::Accept, OrderAction::Depart, OrderAction::Start, OrderAction::Hold],
        "completed" | "closed" => {
            &[OrderAction::Accept, OrderAction::Depart, OrderAction::Start, OrderAction::Complete]
        }
        _ => &[],
    };
    for action in path {
        let by = technician?;
        let reason = (*action == OrderAction::Hold).then(|| "waiting for a spare part".to_owned());
        steps.push(PastStep {
            action: *action,
            by,
            role: Role::Technician,
            technician: None,
            reason,
            at: next(rng, &mut at),
        });
    }
    if ending == "closed" && service_type.approval_required {
        steps.push(dispatch(OrderAction::Approve, None, None, next(rng, &mut at)));
    }
    if ending == "cancelled" {
        steps.push(dispatch(OrderAction::Cancel, None, Some("the customer cancelled"), next(rng, &mut at)));
    }
    // A history that would run into the future is cut short rather than invented.
    steps.retain(|step| step.at < now);
    // Whoever holds the order once the history is cut is the one whose time it books.
    let holder = steps.iter().fold(None, |holder, step| match step.action {
        OrderAction::Assign | OrderAction::Reassign => step.technician,
        OrderAction::Decline => None,
        _ => holder,
    });
    let sla_minutes = service_type.sla.get(priority.as_str()).and_then(serde_json::Value::as_i64);
    Some(PastOrder {
        id: OrderId(id_at(created_at)),
        customer_id,
        site_id,
        service_type_id: service_type.id,
        title: format!("{}: {}", service_type.name, PROBLEMS.choose(rng)?),
        priority,
        approval_required: service_type.approval_required,
        duration_minutes: service_type.duration_minutes,
        cost_minor: service_type.price_minor,
        sla_minutes: sla_minutes.and_then(|m| i32::try_from(m).ok()),
        window: match (ending, holder) {
            ("new", _) => None,
            (_, technician) => {
                let start = created_at + Duration::hours(rng.random_range(2..72));
                let length = Duration::minutes(i64::from(service_type.duration_minutes));
                match technician {
                    Some(technician) => booked.reserve(technician, start, length),
                    None => Some((start, start + length)),
                }
            }
        },
        created_by: dispatcher,
        created_at,
        steps,
    })
}

/// A UUIDv7 that carries `at`: the API orders by id (`sort=newest`), so a past order's id must
/// say when it was created, as a new order's does.
fn id_at(at: DateTime<Utc>) -> Uuid {
    let seconds = u64::try_from(at.timestamp()).unwrap_or_default();
    Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, at.timestamp_subsec_nanos()))
}

/// Writes `count` past orders over the last `span`, in batches; answers how many were written.
pub async fn write_past_orders(
    state: &AppState,
    org: OrgId,
    count: usize,
    span: Duration,
    seed: u64,
) -> anyhow::Result<usize> {
    const BATCH: usize = 2_000;
    let catalog = catalog(state, org).await?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut booked = Booked::default();
    for (technician, start, end) in crate::scheduling::repo::all_bookings(&state.db, org).await? {
        booked.0.entry(technician).or_default().insert(start, end);
    }
    let now = Utc::now();
    let mut written = 0;
    let mut analyze_at = 1;
    while written < count {
        let mut batch = Vec::with_capacity(BATCH.min(count - written));
        while batch.len() < BATCH.min(count - written) {
            let planned = plan(&catalog, &mut booked, &mut rng, now, span)
                .context("no customers, service types or able technicians to plan orders with")?;
            batch.push(history::replay(planned).context("a planned history broke the lifecycle")?);
        }
        // Numbers follow creation time within each year, as if the orders had been made one by one.
        batch.sort_by_key(|replayed| replayed.order.created_at);
        let mut per_year: BTreeMap<i32, i32> = BTreeMap::new();
        for replayed in &batch {
            *per_year.entry(replayed.order.created_at.year()).or_default() += 1;
        }
        let mut tx = state.db.begin().await?;
        let mut next_number = BTreeMap::new();
        for (year, amount) in per_year {
            next_number.insert(year, orders_repo::reserve_numbers(&mut tx, org, year, amount).await?);
        }
        let rows: Vec<(String, String, Replayed)> = batch
            .into_iter()
            .map(|replayed| {
                let year = replayed.order.created_at.year();
                let number = next_number.entry(year).or_insert(1);
                let formatted = format!("{year}-{:06}", *number);
                *number += 1;
                (formatted, crate::auth::tokens::new_opaque_token().0, replayed)
            })
            .collect();
        orders_repo::insert_replayed(&mut tx, org, &catalog.currency, &rows).await?;
        let ids: Vec<Uuid> = rows.iter().map(|(_, _, replayed)| replayed.order.id.0).collect();
        work_repo::copy_work_rules(&mut tx, org, &ids).await?;
        let reports: Vec<_> = rows
            .iter()
            .filter_map(|(_, _, replayed)| {
                let report = past_report(replayed, &catalog.hourly_rates, &mut rng)?;
                Some((replayed.order.id, report))
            })
            .collect();
        let stored: Vec<StoredReport<'_>> = reports
            .iter()
            .map(|(order, (report, totals, by, at))| StoredReport {
                order: *order,
                report,
                totals,
                by: Some(*by),
                at: *at,
            })
            .collect();
        work_repo::store_reports(&mut tx, org, &catalog.currency, &stored).await?;
        tx.commit().await?;
        written += rows.len();
        // Statistics after the first batch, then at every tenfold growth, keep the plans honest.
        if written >= analyze_at {
            orders_repo::analyze(&state.db).await?;
            analyze_at = written * 10;
        }
    }
    Ok(written)
}
