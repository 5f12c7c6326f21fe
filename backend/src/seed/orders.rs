//! Orders for the demo and the benchmark, checked step by step by the state machine:
//! - history: finished orders (completed, closed, cancelled) spread over a span that ends
//!   `SETTLED` before now, technicians with the right skills, plausible gaps between steps;
//! - current work (demo only): each technician's next two working days, today first when they work
//!   today, with jobs inside their shifts whose status follows the clock (done, in progress, on
//!   the way, accepted or waiting to be accepted), and a few new orders waiting for a dispatcher.
//!
//! Open orders exist only in the current work, so neither the demo nor a benchmark's million
//! orders look like a backlog of overdue jobs.

use super::history::{self, PastOrder, PastStep, Replayed};
use super::repo::{self, ServiceTypeRow};
use crate::orders::work_repo::{self, StoredReport};
use crate::state::AppState;
use anyhow::Context;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::api::orders::{ReportPart, WorkReport};
use domain::orders::OrderAction;
use domain::orders::report::{ReportTotals, totals};
use domain::schedule::{Interval, local_day};
use domain::{CustomerId, OrderId, OrgId, Priority, Role, SiteId, UserId, WorkingHours};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use uuid::Uuid;

/// History ends this long before now: longer than any planned history takes (7 steps of at most
/// 10 hours, or a window at most 76 hours after creation), so all of it is in the past.
const SETTLED: Duration = Duration::days(4);
/// Jobs per technician per working day of the current work.
const JOBS_PER_DAY: usize = 3;
/// Time between one job's end and the next one's start: the drive.
const TRAVEL: Duration = Duration::minutes(45);
/// How long before a visit the technician sets off.
const DEPARTURE: Duration = Duration::minutes(30);
/// New orders of the current work, not assigned yet.
const WAITING_ORDERS: usize = 3;

/// What orders are made of: the organization's customers, service types and people.
#[derive(Debug)]
struct Catalog {
    sites: Vec<(CustomerId, SiteId)>,
    service_types: Vec<ServiceTypeRow>,
    technicians: Vec<Technician>,
    dispatcher: UserId,
    currency: domain::Currency,
    time_zone: Tz,
}

#[derive(Debug)]
struct Technician {
    id: UserId,
    skills: Vec<String>,
    hourly_rate_minor: i64,
    working_hours: WorkingHours,
}

impl Catalog {
    async fn load(state: &AppState, org: OrgId) -> anyhow::Result<Catalog> {
        let technicians = repo::technicians(&state.db, org)
            .await?
            .into_iter()
            .map(|row| Technician {
                id: row.id,
                skills: row.skills,
                hourly_rate_minor: row.hourly_rate_minor,
                working_hours: row.working_hours.0,
            })
            .collect();
        let dispatcher = repo::dispatcher(&state.db, org).await?.context("orders need a dispatcher or an admin")?;
        let org_row = crate::orgs::repo::find(&state.db, org).await?.context("organization")?;
        Ok(Catalog {
            sites: repo::sites(&state.db, org).await?,
            service_types: repo::service_types(&state.db, org).await?,
            technicians,
            dispatcher,
            currency: org_row.currency,
            time_zone: org_row.time_zone.tz(),
        })
    }

    fn able(&self, service_type: &ServiceTypeRow) -> Vec<UserId> {
        self.technicians
            .iter()
            .filter(|t| service_type.required_skills.iter().all(|s| t.skills.contains(s)))
            .map(|t| t.id)
            .collect()
    }

    fn hourly_rate(&self, technician: UserId) -> i64 {
        self.technicians.iter().find(|t| t.id == technician).map_or(0, |t| t.hourly_rate_minor)
    }

    /// A step the dispatcher took.
    fn dispatch(
        &self,
        action: OrderAction,
        technician: Option<UserId>,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> PastStep {
        PastStep {
            action,
            by: self.dispatcher,
            role: Role::Dispatcher,
            technician,
            reason: reason.map(str::to_owned),
            at,
        }
    }

    /// An order of `service_type` at a random site, before its steps.
    fn order(
        &self,
        rng: &mut StdRng,
        service_type: &ServiceTypeRow,
        priority: Priority,
        created_at: DateTime<Utc>,
    ) -> Option<PastOrder> {
        let (customer_id, site_id) = *self.sites.choose(rng)?;
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
            window: None,
            created_by: self.dispatcher,
            created_at,
            steps: Vec::new(),
        })
    }
}

/// Where a finished order ended, with its weight in a realistic mix.
const ENDINGS: [(Ending, u32); 3] = [(Ending::Completed, 9), (Ending::Closed, 50), (Ending::Cancelled, 12)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// Done, waiting for the office's approval.
    Completed,
    Closed,
    Cancelled,
}

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
    catalog: &Catalog,
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
    let totals = totals(&[(quantity_thousandths, price)], labour_minutes, catalog.hourly_rate(technician))?;
    Some((report, totals, technician, completed))
}

/// The windows already given to each technician, so planned orders never double-book anyone
/// (the database would refuse them).
#[derive(Debug, Default)]
struct Booked(HashMap<UserId, BTreeMap<DateTime<Utc>, DateTime<Utc>>>);

impl Booked {
    async fn load(state: &AppState, org: OrgId) -> anyhow::Result<Booked> {
        let mut booked = Booked::default();
        for (technician, start, end) in crate::scheduling::repo::all_bookings(&state.db, org).await? {
            booked.0.entry(technician).or_default().insert(start, end);
        }
        Ok(booked)
    }

    fn is_free(&self, technician: UserId, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        // Windows never overlap, so the last one starting before this one ends is the only one that could.
        self.0.get(&technician).is_none_or(|taken| taken.range(..end).next_back().is_none_or(|(_, e)| *e <= start))
    }

    /// Books the first free window of `length` starting at `wanted` or up to a day later, by the hour.
    fn reserve(
        &mut self,
        technician: UserId,
        wanted: DateTime<Utc>,
        length: Duration,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let start = (0..24)
            .map(|hours| wanted + Duration::hours(hours))
            .find(|start| self.is_free(technician, *start, *start + length))?;
        self.0.entry(technician).or_default().insert(start, start + length);
        Some((start, start + length))
    }
}

/// One finished order created between `span` and `SETTLED` ago.
fn plan_finished(
    catalog: &Catalog,
    booked: &mut Booked,
    rng: &mut StdRng,
    now: DateTime<Utc>,
    span: Duration,
) -> Option<PastOrder> {
    let service_type = catalog.service_types.choose(rng)?;
    let able = catalog.able(service_type);
    let ending = ENDINGS.choose_weighted(rng, |(_, weight)| *weight).ok()?.0;
    let age = rng.random_range(SETTLED.num_seconds()..span.num_seconds().max(SETTLED.num_seconds() + 1));
    let created_at = now - Duration::seconds(age);
    let priority =
        *[Priority::Low, Priority::Normal, Priority::Normal, Priority::High, Priority::Urgent].choose(rng)?;
    let mut order = catalog.order(rng, service_type, priority, created_at)?;
    let mut at = created_at;
    let next = |rng: &mut StdRng, at: &mut DateTime<Utc>| {
        *at += Duration::minutes(rng.random_range(5..600));
        *at
    };
    let mut technician = None;
    if !(ending == Ending::Cancelled && rng.random_bool(0.5)) {
        let first = *able.choose(rng)?;
        order.steps.push(catalog.dispatch(OrderAction::Assign, Some(first), None, next(rng, &mut at)));
        technician = Some(first);
        if able.len() > 1 && rng.random_bool(0.1) {
            order.steps.push(PastStep {
                action: OrderAction::Decline,
                by: first,
                role: Role::Technician,
                technician: None,
                reason: Some("too far from my other jobs".into()),
                at: next(rng, &mut at),
            });
            let second = *able.iter().filter(|t| **t != first).collect::<Vec<_>>().choose(rng)?;
            order.steps.push(catalog.dispatch(OrderAction::Assign, Some(*second), None, next(rng, &mut at)));
            technician = Some(*second);
        }
    }
    if ending != Ending::Cancelled {
        let by = technician?;
        for action in [OrderAction::Accept, OrderAction::Depart, OrderAction::Start, OrderAction::Complete] {
            order.steps.push(PastStep {
                action,
                by,
                role: Role::Technician,
                technician: None,
                reason: None,
                at: next(rng, &mut at),
            });
        }
    }
    if ending == Ending::Closed && service_type.approval_required {
        order.steps.push(catalog.dispatch(OrderAction::Approve, None, None, next(rng, &mut at)));
    }
    if ending == Ending::Cancelled {
        order.steps.push(catalog.dispatch(
            OrderAction::Cancel,
            None,
            Some("the customer cancelled"),
            next(rng, &mut at),
        ));
    }
    let start = created_at + Duration::hours(rng.random_range(2..72));
    let length = Duration::minutes(i64::from(service_type.duration_minutes));
    order.window = match technician {
        Some(technician) => booked.reserve(technician, start, length),
        None => Some((start, start + length)),
    };
    Some(order)
}

/// The shifts of each of the technician's first `days` working days from today on, in the
/// organization's time zone.
fn working_days(hours: &WorkingHours, tz: Tz, today: NaiveDate, days: usize) -> Vec<Vec<Interval>> {
    let (from, _) = local_day(tz, today);
    let Some(week) = Interval::new(from, from + Duration::days(8)) else { return Vec::new() };
    let mut by_day: BTreeMap<NaiveDate, Vec<Interval>> = BTreeMap::new();
    for shift in hours.intervals(tz, week) {
        by_day.entry(shift.start.with_timezone(&tz).date_naive()).or_default().push(shift);
    }
    by_day.into_values().take(days).collect()
}

/// A job of `technician` in `window`, its steps as far as `now` has come: done before now, started
/// when now is inside the window, on the way just before it, accepted or not yet ahead of it.
fn plan_job(
    catalog: &Catalog,
    rng: &mut StdRng,
    technician: UserId,
    service_type: &ServiceTypeRow,
    window: (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> Option<PastOrder> {
    let (start, end) = window;
    // Booked at least two hours before the visit (or before now, for a visit already begun).
    let created_at = start.min(now) - Duration::minutes(rng.random_range(120..1200));
    // Low priority: the visit, a day or two ahead, is inside the SLA of every demo type.
    let mut order = catalog.order(rng, service_type, Priority::Low, created_at)?;
    order.window = Some(window);
    let assigned_at = created_at + Duration::minutes(rng.random_range(5..30));
    order.steps.push(catalog.dispatch(OrderAction::Assign, Some(technician), None, assigned_at));
    let step =
        |action, at| PastStep { action, by: technician, role: Role::Technician, technician: None, reason: None, at };
    let accepted_at = assigned_at + Duration::minutes(rng.random_range(5..60));
    let begun = now >= start - DEPARTURE;
    if begun || rng.random_bool(0.6) {
        order.steps.push(step(OrderAction::Accept, accepted_at));
    }
    if begun {
        order.steps.push(step(OrderAction::Depart, start - DEPARTURE));
    }
    if now >= start {
        order.steps.push(step(OrderAction::Start, start));
    }
    if now >= end {
        order.steps.push(step(OrderAction::Complete, end - Duration::minutes(rng.random_range(0..15))));
    }
    Some(order)
}

/// Each technician's jobs on their next two working days, and the orders waiting for a dispatcher.
fn plan_current(catalog: &Catalog, booked: &mut Booked, rng: &mut StdRng, now: DateTime<Utc>) -> Vec<PastOrder> {
    let today = now.with_timezone(&catalog.time_zone).date_naive();
    let mut orders = Vec::new();
    for technician in &catalog.technicians {
        let doable: Vec<&ServiceTypeRow> = catalog
            .service_types
            .iter()
            .filter(|t| t.required_skills.iter().all(|s| technician.skills.contains(s)))
            .collect();
        for shifts in working_days(&technician.working_hours, catalog.time_zone, today, 2) {
            let mut cursor = shifts.first().map_or(now, |shift| shift.start);
            for _ in 0..JOBS_PER_DAY {
                let Some(service_type) = doable.choose(rng) else { break };
                let length = Duration::minutes(i64::from(service_type.duration_minutes));
                let Some(start) = shifts.iter().find_map(|shift| {
                    let start = cursor.max(shift.start);
                    (start + length <= shift.end).then_some(start)
                }) else {
                    break;
                };
                cursor = start + length + TRAVEL;
                if !booked.is_free(technician.id, start, start + length) {
                    continue;
                }
                booked.0.entry(technician.id).or_default().insert(start, start + length);
                orders.extend(plan_job(catalog, rng, technician.id, service_type, (start, start + length), now));
            }
        }
    }
    for _ in 0..WAITING_ORDERS {
        let created_at = now - Duration::minutes(rng.random_range(10..180));
        let priority = *[Priority::Normal, Priority::High].choose(rng).unwrap_or(&Priority::Normal);
        orders.extend(catalog.service_types.choose(rng).and_then(|t| catalog.order(rng, t, priority, created_at)));
    }
    orders
}

/// A UUIDv7 that carries `at`: the API orders by id (`sort=newest`), so a past order's id must
/// say when it was created, as a new order's does.
fn id_at(at: DateTime<Utc>) -> Uuid {
    let seconds = u64::try_from(at.timestamp()).unwrap_or_default();
    Uuid::new_v7(uuid::Timestamp::from_unix(uuid::NoContext, seconds, at.timestamp_subsec_nanos()))
}

/// Writes `count` finished orders over the last `span`, in batches; answers how many were written.
pub async fn write_history(
    state: &AppState,
    org: OrgId,
    count: usize,
    span: Duration,
    seed: u64,
) -> anyhow::Result<usize> {
    const BATCH: usize = 2_000;
    let catalog = Catalog::load(state, org).await?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut booked = Booked::load(state, org).await?;
    let now = Utc::now();
    let mut written = 0;
    let mut analyze_at = 1;
    while written < count {
        let planned = (0..BATCH.min(count - written))
            .map(|_| {
                plan_finished(&catalog, &mut booked, &mut rng, now, span)
                    .context("no customers, service types or able technicians to plan orders with")
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        written += write(state, org, &catalog, &mut rng, planned).await?;
        // Statistics after the first batch, then at every tenfold growth, keep the plans honest.
        if written >= analyze_at {
            repo::analyze(&state.db).await?;
            analyze_at = written * 10;
        }
    }
    Ok(written)
}

/// Writes the current work (see the module's documentation); answers how many orders it wrote.
pub async fn write_current_work(state: &AppState, org: OrgId, seed: u64) -> anyhow::Result<usize> {
    let catalog = Catalog::load(state, org).await?;
    let mut rng = StdRng::seed_from_u64(seed);
    let mut booked = Booked::load(state, org).await?;
    let planned = plan_current(&catalog, &mut booked, &mut rng, Utc::now());
    write(state, org, &catalog, &mut rng, planned).await
}

/// Replays the planned orders and writes them, their checklists and reports in one transaction.
async fn write(
    state: &AppState,
    org: OrgId,
    catalog: &Catalog,
    rng: &mut StdRng,
    planned: Vec<PastOrder>,
) -> anyhow::Result<usize> {
    let mut batch = planned
        .into_iter()
        .map(|order| history::replay(order).context("a planned history broke the lifecycle"))
        .collect::<anyhow::Result<Vec<Replayed>>>()?;
    // Numbers follow creation time within each year, as if the orders had been made one by one.
    batch.sort_by_key(|replayed| replayed.order.created_at);
    let mut per_year: BTreeMap<i32, i32> = BTreeMap::new();
    for replayed in &batch {
        *per_year.entry(replayed.order.created_at.year()).or_default() += 1;
    }
    let mut tx = state.db.begin().await?;
    let mut next_number = BTreeMap::new();
    for (year, amount) in per_year {
        next_number.insert(year, repo::reserve_numbers(&mut tx, org, year, amount).await?);
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
    repo::insert_replayed(&mut tx, org, &catalog.currency, &rows).await?;
    let ids: Vec<Uuid> = rows.iter().map(|(_, _, replayed)| replayed.order.id.0).collect();
    work_repo::copy_work_rules(&mut tx, org, &ids).await?;
    let reports: Vec<_> = rows
        .iter()
        .filter_map(|(_, _, replayed)| Some((replayed.order.id, past_report(replayed, catalog, rng)?)))
        .collect();
    let stored: Vec<StoredReport<'_>> = reports
        .iter()
        .map(|(order, (report, totals, by, at))| StoredReport { order: *order, report, totals, by: Some(*by), at: *at })
        .collect();
    work_repo::store_reports(&mut tx, org, &catalog.currency, &stored).await?;
    tx.commit().await?;
    Ok(rows.len())
}
