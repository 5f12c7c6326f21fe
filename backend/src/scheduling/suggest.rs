//! Ranks technicians for an order, with the reason each one passed or failed every check.
//!
//! Checks: `skills` (every skill the service type requires), `zone` (serves the site's zone, when
//! the site has one), `capacity` (fewer jobs that local day than their maximum) and
//! `availability` (free at the order's window, or — without a window — a free slot within the
//! next 7 days, honouring hours, time off, holidays and the travel buffer).
//!
//! Eligible candidates come first, then by score, then by id. The score is
//! `100 − hours from the earliest proposed start to theirs − booked hours that day − km from
//! their previous job that day`, never below zero; ineligible candidates score zero.

use super::board::{self, Board};
use super::repo::{self, BookingRow, FactsFilter, Requirement, TechnicianFacts};
use crate::orders::OrderError;
use crate::orders::repo::OrderRow;
use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use domain::api::scheduling::{CandidateView, CheckOutcome};
use domain::schedule::{Interval, Slot, SlotQuery, find_slots, haversine_km};
use domain::{OrgId, UserId};
use sqlx::PgConnection;
use std::collections::HashMap;

/// How far ahead an order without a window looks for a free slot.
const LOOKAHEAD: Duration = Duration::days(7);
/// Most technicians one ranking considers.
const MAX_TECHNICIANS: i64 = 2_000;
/// An order without a duration of its own is planned for this long.
const DEFAULT_DURATION_MINUTES: i64 = 60;

/// Every active technician of the organization ranked for `order`, except `excluded` ones.
pub async fn rank(
    conn: &mut PgConnection,
    org: OrgId,
    order: &OrderRow,
    excluded: &[UserId],
    now: DateTime<Utc>,
) -> Result<Vec<CandidateView>, OrderError> {
    let requirement = repo::requirement(&mut *conn, org, order.id).await?.ok_or(OrderError::NotFound)?;
    let settings = board::settings(&mut *conn, org).await?;
    let window = order.scheduled_start.zip(order.scheduled_end).and_then(|(start, end)| Interval::new(start, end));
    let duration = window
        .map_or(Duration::minutes(order.estimated_duration_minutes.map_or(DEFAULT_DURATION_MINUTES, i64::from)), |w| {
            w.duration()
        });
    let range = match window {
        Some(window) => window,
        None => {
            let start = now.duration_trunc(Duration::minutes(15)).unwrap_or(now) + Duration::minutes(15);
            Interval { start, end: start + LOOKAHEAD }
        }
    };
    let filter = FactsFilter { limit: MAX_TECHNICIANS, ..FactsFilter::default() };
    let technicians: Vec<TechnicianFacts> = repo::technician_facts(&mut *conn, org, &filter)
        .await?
        .into_iter()
        .filter(|t| !excluded.contains(&t.id))
        .collect();
    let board = Board::load(conn, org, technicians, (range.start, range.end)).await?.without_order(order.id);
    let query = SlotQuery {
        within: range,
        duration,
        travel_buffer: settings.travel_buffer,
        // A fixed window is taken as it is; an open search proposes quarter hours.
        granularity: if window.is_some() { Duration::minutes(1) } else { Duration::minutes(15) },
        holidays: board.holiday_dates(),
        limit: usize::MAX,
    };
    let mut first_slot: HashMap<UserId, Slot> = HashMap::new();
    for slot in find_slots(&query, &board.calendars()) {
        if window.is_none_or(|w| slot.start == w.start) {
            first_slot.entry(slot.technician).or_insert(slot);
        }
    }
    let earliest = first_slot.values().map(|s| s.start).min();
    let mut candidates: Vec<CandidateView> = board
        .technicians
        .iter()
        .map(|technician| {
            let slot = first_slot.get(&technician.id);
            assess(technician, &board, &requirement, window, range, slot, earliest)
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.eligible.cmp(&a.eligible).then(b.score.total_cmp(&a.score)).then(a.technician_id.cmp(&b.technician_id))
    });
    Ok(candidates)
}

fn assess(
    technician: &TechnicianFacts,
    board: &Board,
    requirement: &Requirement,
    window: Option<Interval>,
    range: Interval,
    slot: Option<&Slot>,
    earliest: Option<DateTime<Utc>>,
) -> CandidateView {
    let tz = technician.time_zone.tz();
    let bookings = board.bookings_of(technician.id);
    let proposed = slot.map(|s| s.start);
    let day = proposed.or(window.map(|w| w.start)).unwrap_or(range.start).with_timezone(&tz).date_naive();
    let that_day: Vec<&BookingRow> =
        bookings.iter().filter(|b| b.start.with_timezone(&tz).date_naive() == day).collect();
    let load_minutes: i64 = that_day.iter().map(|b| (b.end - b.start).num_minutes()).sum();
    let distance_km = proposed.and_then(|start| previous_job_distance(&that_day, start, requirement));

    let missing: Vec<String> =
        requirement.skills.iter().filter(|s| !technician.skills.contains(s)).map(ToString::to_string).collect();
    let skills = if missing.is_empty() {
        outcome("skills", true, "has every required skill".to_owned())
    } else {
        outcome("skills", false, format!("lacks {}", missing.join(", ")))
    };
    let zone = match &requirement.zone {
        None => outcome("zone", true, "the site has no zone".to_owned()),
        Some(zone) if technician.zones.iter().any(|z| z.to_string() == *zone) => {
            outcome("zone", true, format!("serves {zone}"))
        }
        Some(zone) => outcome("zone", false, format!("does not serve {zone}")),
    };
    let jobs = that_day.len();
    let capacity = outcome(
        "capacity",
        i64::try_from(jobs).unwrap_or(i64::MAX) < i64::from(technician.max_jobs_per_day),
        format!("{jobs} of {} jobs booked on {day}", technician.max_jobs_per_day),
    );
    let availability = match (proposed, window) {
        (Some(start), Some(_)) => outcome("availability", true, format!("free at the order's window from {start}")),
        (Some(start), None) => outcome("availability", true, format!("first free slot at {start}")),
        (None, Some(w)) => outcome("availability", false, why_not_free(bookings, w, day)),
        (None, None) => outcome("availability", false, "no free slot in the next 7 days".to_owned()),
    };
    let checks = vec![skills, zone, capacity, availability];
    let eligible = checks.iter().all(|c| c.passed);
    let score = match (eligible, proposed, earliest) {
        (true, Some(start), Some(earliest)) => {
            let waiting_hours = (start - earliest).num_minutes() as f64 / 60.0;
            (100.0 - waiting_hours - load_minutes as f64 / 60.0 - distance_km.unwrap_or(0.0)).max(0.0)
        }
        _ => 0.0,
    };
    CandidateView {
        technician_id: technician.id,
        full_name: technician.full_name.clone(),
        eligible,
        score,
        load_minutes,
        distance_km,
        proposed_start: proposed,
        checks,
    }
}

fn outcome(check: &str, passed: bool, reason: String) -> CheckOutcome {
    CheckOutcome { check: check.to_owned(), passed, reason }
}

/// Kilometres from the site of the technician's last job ending before `start` that day.
fn previous_job_distance(that_day: &[&BookingRow], start: DateTime<Utc>, requirement: &Requirement) -> Option<f64> {
    let here = requirement.latitude.zip(requirement.longitude)?;
    let previous = that_day.iter().filter(|b| b.end <= start).max_by_key(|b| b.end)?;
    Some(haversine_km(previous.latitude.zip(previous.longitude)?, here))
}

fn why_not_free(bookings: &[BookingRow], window: Interval, day: NaiveDate) -> String {
    match bookings.iter().find(|b| b.start < window.end && window.start < b.end) {
        Some(b) => format!("booked for order {} from {} to {}", b.number, b.start, b.end),
        None => format!("does not work then, or too close to another job, on {day}"),
    }
}

/// The best eligible technician and the window to book them for.
pub async fn best(
    conn: &mut PgConnection,
    org: OrgId,
    order: &OrderRow,
    now: DateTime<Utc>,
) -> Result<(UserId, (DateTime<Utc>, DateTime<Utc>)), OrderError> {
    let candidates = rank(conn, org, order, &[], now).await?;
    let best = candidates.into_iter().find(|c| c.eligible).ok_or(OrderError::NoCandidate)?;
    let start = best.proposed_start.ok_or(OrderError::NoCandidate)?;
    let duration = order.scheduled_start.zip(order.scheduled_end).map_or_else(
        || Duration::minutes(order.estimated_duration_minutes.map_or(DEFAULT_DURATION_MINUTES, i64::from)),
        |(s, e)| e - s,
    );
    Ok((best.technician_id, (start, start + duration)))
}
