use super::board::{self, Board};
use super::repo::{self, FactsFilter, Pick, TechnicianFacts};
use super::suggest;
use crate::actor::{Actor, Forbidden};
use crate::audit;
use crate::orders::OrderError;
use crate::orders::access::{scope, visible};
use crate::state::AppState;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone as _, Utc};
use domain::api::scheduling::{
    CreateHolidayRequest, CreateTimeOffRequest, HolidayQuery, HolidayView, MAX_CALENDAR_TECHNICIANS, MyScheduleQuery,
    SchedulePage, SchedulePeriod, ScheduleQuery, SlotSearchQuery, SlotView, SuggestionsView, TechnicianSchedule,
    TimeOffQuery, TimeOffView, UpdateHolidayRequest, UpdateTimeOffRequest, check_range,
};
use domain::schedule::{Interval, SlotQuery, find_slots};
use domain::{
    Cursor, FieldError, FieldErrors, HolidayId, OrderId, Page, PageLimit, Permission, TimeOffId, UserId, Validator,
};
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for ScheduleError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}

/// The technician an actor asks about, if they may see them: technicians only themselves.
async fn reachable_technician(state: &AppState, actor: &Actor, id: UserId) -> Result<TechnicianFacts, ScheduleError> {
    if scope(actor).is_some_and(|own| own != id) {
        return Err(ScheduleError::NotFound("technician"));
    }
    let ids = [id.0];
    let filter = FactsFilter { pick: Pick::Ids(&ids), limit: 1, ..FactsFilter::default() };
    let found = repo::technician_facts(&state.db, actor.org_id(), &filter).await?;
    found.into_iter().next().ok_or(ScheduleError::NotFound("technician"))
}

pub async fn list_time_off(
    state: &AppState,
    actor: &Actor,
    technician: UserId,
    query: &TimeOffQuery,
) -> Result<Page<TimeOffView>, ScheduleError> {
    actor.require(Permission::ReadSchedule)?;
    reachable_technician(state, actor, technician).await?;
    let range = query.range(Utc::now()).map_err(ScheduleError::Invalid)?;
    let limit = PageLimit::new(query.limit);
    let after = query.cursor.map(|c| c.0);
    let rows = repo::time_off_in(&state.db, actor.org_id(), &[technician.0], range, after, limit.probe()).await?;
    Ok(Page::from_probe(rows, limit, |t| t.id.0))
}

pub async fn create_time_off(
    state: &AppState,
    actor: &Actor,
    technician: UserId,
    request: &CreateTimeOffRequest,
) -> Result<TimeOffView, ScheduleError> {
    actor.require(Permission::ManageSchedule)?;
    let time_off = request.parse().map_err(ScheduleError::Invalid)?;
    reachable_technician(state, actor, technician).await?;
    let mut tx = state.db.begin().await?;
    let view = repo::insert_time_off(&mut tx, actor.org_id(), technician, &time_off).await?;
    audit::record(&mut tx, actor, "time_off.created", ("time_off", view.id.0), json!({ "technician_id": technician }))
        .await?;
    tx.commit().await?;
    Ok(view)
}

pub async fn update_time_off(
    state: &AppState,
    actor: &Actor,
    id: TimeOffId,
    request: &UpdateTimeOffRequest,
) -> Result<TimeOffView, ScheduleError> {
    actor.require(Permission::ManageSchedule)?;
    let org = actor.org_id();
    let mut tx = state.db.begin().await?;
    let current = repo::find_time_off(&mut tx, org, id).await?.ok_or(ScheduleError::NotFound("time off"))?;
    let changed = request.apply(&current).map_err(ScheduleError::Invalid)?;
    let view = repo::update_time_off(&mut tx, org, id, &changed).await?.ok_or(ScheduleError::NotFound("time off"))?;
    audit::record(
        &mut tx,
        actor,
        "time_off.updated",
        ("time_off", id.0),
        json!({ "technician_id": view.technician_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

pub async fn delete_time_off(state: &AppState, actor: &Actor, id: TimeOffId) -> Result<(), ScheduleError> {
    actor.require(Permission::ManageSchedule)?;
    let mut tx = state.db.begin().await?;
    let technician =
        repo::delete_time_off(&mut tx, actor.org_id(), id).await?.ok_or(ScheduleError::NotFound("time off"))?;
    audit::record(&mut tx, actor, "time_off.deleted", ("time_off", id.0), json!({ "technician_id": technician }))
        .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list_holidays(
    state: &AppState,
    actor: &Actor,
    query: &HolidayQuery,
) -> Result<Vec<HolidayView>, ScheduleError> {
    actor.require(Permission::ReadSchedule)?;
    let (first, last) = query.days(Utc::now().year()).map_err(ScheduleError::Invalid)?;
    Ok(repo::holidays(&state.db, actor.org_id(), first, last).await?)
}

pub async fn create_holiday(
    state: &AppState,
    actor: &Actor,
    request: &CreateHolidayRequest,
) -> Result<HolidayView, ScheduleError> {
    actor.require(Permission::ManageSchedule)?;
    let (day, name) = request.parse().map_err(ScheduleError::Invalid)?;
    let mut tx = state.db.begin().await?;
    let view = repo::insert_holiday(&mut tx, actor.org_id(), day, &name).await?.ok_or_else(duplicate_day)?;
    audit::record(&mut tx, actor, "holiday.created", ("holiday", view.id.0), json!({ "day": day })).await?;
    tx.commit().await?;
    Ok(view)
}

pub async fn update_holiday(
    state: &AppState,
    actor: &Actor,
    id: HolidayId,
    request: &UpdateHolidayRequest,
) -> Result<HolidayView, ScheduleError> {
    actor.require(Permission::ManageSchedule)?;
    let org = actor.org_id();
    let mut tx = state.db.begin().await?;
    let current = repo::find_holiday(&mut tx, org, id).await?.ok_or(ScheduleError::NotFound("holiday"))?;
    let (day, name) = request.apply(&current).map_err(ScheduleError::Invalid)?;
    let view = repo::update_holiday(&mut tx, org, id, day, &name).await?.ok_or_else(duplicate_day)?;
    audit::record(&mut tx, actor, "holiday.updated", ("holiday", id.0), json!({ "day": day })).await?;
    tx.commit().await?;
    Ok(view)
}

fn duplicate_day() -> ScheduleError {
    ScheduleError::Invalid(FieldErrors::single("day", FieldError::new("duplicate", "already a holiday")))
}

pub async fn delete_holiday(state: &AppState, actor: &Actor, id: HolidayId) -> Result<(), ScheduleError> {
    actor.require(Permission::ManageSchedule)?;
    let mut tx = state.db.begin().await?;
    if !repo::delete_holiday(&mut tx, actor.org_id(), id).await? {
        return Err(ScheduleError::NotFound("holiday"));
    }
    audit::record(&mut tx, actor, "holiday.deleted", ("holiday", id.0), json!({})).await?;
    tx.commit().await?;
    Ok(())
}

/// The calendar: per technician, their working hours as instants, time off and bookings.
pub async fn schedule(state: &AppState, actor: &Actor, query: &ScheduleQuery) -> Result<SchedulePage, ScheduleError> {
    actor.require(Permission::ReadSchedule)?;
    let mut v = Validator::default();
    check_range(&mut v, query.from, query.to);
    let asked = v.check("technician_ids", parse_ids(query.technician_ids.as_deref()));
    let limit = match query.limit {
        None => Some(50),
        Some(n @ 1..=100) => Some(n as usize),
        Some(_) => {
            v.add("limit", FieldError::new("out_of_range", "must be 1 to 100"));
            None
        }
    };
    let (asked, limit) = v.finish(|| Some((asked?, limit?))).map_err(ScheduleError::Invalid)?;
    // A technician's calendar holds their own lane, whatever else they ask for.
    let ids = match scope(actor) {
        Some(own) => Some(vec![own.0]),
        None => asked,
    };
    lanes(state, actor, ids.as_deref(), (query.from, query.to), query.cursor, limit).await
}

async fn lanes(
    state: &AppState,
    actor: &Actor,
    ids: Option<&[Uuid]>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    cursor: Option<Cursor>,
    limit: usize,
) -> Result<SchedulePage, ScheduleError> {
    let org = actor.org_id();
    let filter = FactsFilter {
        pick: ids.map_or_else(Pick::default, Pick::Ids),
        after: cursor.map(|c| c.0),
        limit: limit as i64 + 1,
    };
    let mut technicians = repo::technician_facts(&state.db, org, &filter).await?;
    let next_cursor = if technicians.len() > limit {
        technicians.truncate(limit);
        technicians.last().map(|t| Cursor(t.id.0))
    } else {
        None
    };
    let mut conn = state.db.acquire().await?;
    let board = Board::load(&mut conn, org, technicians, (from, to)).await?;
    let range = Interval::new(from, to).ok_or_else(|| {
        ScheduleError::Invalid(FieldErrors::single("to", FieldError::new("before_start", "must be after from")))
    })?;
    let lanes = board
        .technicians
        .iter()
        .map(|t| TechnicianSchedule {
            technician_id: t.id,
            full_name: t.full_name.clone(),
            calendar_color: t.calendar_color.clone(),
            time_zone: t.time_zone.clone(),
            working: t.working_hours.0.intervals(t.time_zone.tz(), range).into_iter().map(Into::into).collect(),
            time_off: board
                .time_off_of(t.id)
                .iter()
                .filter(|p| p.starts_at < to && from < p.ends_at)
                .cloned()
                .collect(),
            bookings: board
                .bookings_of(t.id)
                .iter()
                .filter(|b| b.start < to && from < b.end)
                .cloned()
                .map(Into::into)
                .collect(),
        })
        .collect();
    let holidays = board.holidays.iter().filter(|h| h.day >= from.date_naive() && h.day <= to.date_naive()).cloned();
    Ok(SchedulePage { holidays: holidays.collect(), technicians: lanes, next_cursor })
}

/// Comma-separated technician ids, at most a page of them.
fn parse_ids(raw: Option<&str>) -> Result<Option<Vec<Uuid>>, FieldError> {
    let Some(raw) = raw else { return Ok(None) };
    let ids: Vec<Uuid> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| FieldError::new("invalid_id", format!("{s:?} is not an id"))))
        .collect::<Result<_, _>>()?;
    if ids.len() > MAX_CALENDAR_TECHNICIANS {
        return Err(FieldError::new("too_many", format!("at most {MAX_CALENDAR_TECHNICIANS} technicians")));
    }
    Ok(Some(ids))
}

/// The signed-in technician's own day or week, in their time zone.
pub async fn my_schedule(
    state: &AppState,
    actor: &Actor,
    query: &MyScheduleQuery,
) -> Result<SchedulePage, ScheduleError> {
    let own = scope(actor).ok_or(Forbidden)?;
    let technician = reachable_technician(state, actor, own).await?;
    let tz = technician.time_zone.tz();
    let today = Utc::now().with_timezone(&tz).date_naive();
    let (first, days) = match query.period {
        SchedulePeriod::Today => (today, 1),
        SchedulePeriod::Week => (today - Duration::days(i64::from(today.weekday().num_days_from_monday())), 7),
    };
    let midnight = |day: NaiveDate| {
        tz.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN)).earliest().map(|t| t.with_timezone(&Utc))
    };
    let range = midnight(first).zip(midnight(first + Duration::days(days)));
    let range = range.ok_or_else(|| ScheduleError::Internal(anyhow::anyhow!("no local midnight in {tz}")))?;
    lanes(state, actor, Some(&[own.0]), range, None, 1).await
}

/// Free slots for a job, ranked as `domain::schedule` documents.
pub async fn slots(state: &AppState, actor: &Actor, query: &SlotSearchQuery) -> Result<Vec<SlotView>, ScheduleError> {
    actor.require(Permission::ManageSchedule)?;
    let search = query.parse().map_err(ScheduleError::Invalid)?;
    let org = actor.org_id();
    let skills: Vec<String> = search.skills.iter().map(ToString::to_string).collect();
    let zone = search.zone.as_ref().map(ToString::to_string);
    let filter =
        FactsFilter { pick: Pick::Matching { skills: &skills, zone: zone.as_deref() }, limit: 2_000, after: None };
    let mut conn = state.db.acquire().await?;
    let technicians = repo::technician_facts(&mut *conn, org, &filter).await?;
    let settings = board::settings(&mut conn, org).await?;
    let board = Board::load(&mut conn, org, technicians, (search.from, search.to)).await?;
    let within = Interval::new(search.from, search.to).ok_or(ScheduleError::NotFound("range"))?;
    let query = SlotQuery {
        within,
        duration: search.duration,
        travel_buffer: settings.travel_buffer,
        granularity: Duration::minutes(15),
        holidays: board.holiday_dates(),
        limit: search.limit,
    };
    let names: HashMap<UserId, &str> = board.technicians.iter().map(|t| (t.id, t.full_name.as_str())).collect();
    Ok(find_slots(&query, &board.calendars())
        .into_iter()
        .map(|slot| SlotView {
            technician_id: slot.technician,
            full_name: names.get(&slot.technician).map_or_else(String::new, |n| (*n).to_owned()),
            start: slot.start,
            end: slot.end,
            jobs_that_day: slot.jobs_that_day,
        })
        .collect())
}

/// Technicians ranked for an order, each with the checks they passed or failed.
pub async fn suggestions(state: &AppState, actor: &Actor, id: OrderId) -> Result<SuggestionsView, OrderError> {
    actor.require(Permission::ManageSchedule)?;
    let order = visible(state, actor, id).await?;
    let mut conn = state.db.acquire().await?;
    let candidates = suggest::rank(&mut conn, actor.org_id(), &order, &[], Utc::now()).await?;
    Ok(SuggestionsView { order_id: id, candidates })
}
