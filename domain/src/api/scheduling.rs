//! Scheduling and dispatch: time off, holidays, bookings, the calendar, free slots, suggestions,
//! job offers, recurring plans and calendar feeds.

use crate::orders::OrderStatus;
use crate::{
    CustomerId, FieldError, FieldErrors, HolidayId, OfferId, OrderId, Priority, RecurringPlanId, ServiceTypeId, SiteId,
    Tag, TimeOffId, TimeZone, UserId, Validator,
};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

/// The longest range one calendar or slot query may cover (a month view with its edges).
pub const MAX_RANGE_DAYS: i64 = 42;
/// The most technicians one calendar page holds.
pub const MAX_CALENDAR_TECHNICIANS: usize = 100;

/// Why a technician is away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "time_off_kind", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TimeOffKind {
    Vacation,
    Sick,
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeOffView {
    pub id: TimeOffId,
    pub technician_id: UserId,
    pub kind: TimeOffKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// `POST /technicians/{id}/time-off`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateTimeOffRequest {
    pub kind: TimeOffKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// `PATCH /time-off/{id}`: absent fields stay as they are, `note: null` clears the note.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateTimeOffRequest {
    pub kind: Option<TimeOffKind>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "super::patch")]
    pub note: Option<Option<String>>,
}

impl UpdateTimeOffRequest {
    /// The period after applying these changes to `current`, validated as a whole.
    pub fn apply(&self, current: &TimeOffView) -> Result<NewTimeOff, FieldErrors> {
        CreateTimeOffRequest {
            kind: self.kind.unwrap_or(current.kind),
            starts_at: self.starts_at.unwrap_or(current.starts_at),
            ends_at: self.ends_at.unwrap_or(current.ends_at),
            note: self.note.clone().unwrap_or_else(|| current.note.clone()),
        }
        .parse()
    }
}

/// A validated time-off period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTimeOff {
    pub kind: TimeOffKind,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub note: Option<String>,
}

impl CreateTimeOffRequest {
    pub fn parse(&self) -> Result<NewTimeOff, FieldErrors> {
        let mut v = Validator::default();
        if self.ends_at <= self.starts_at {
            v.add("ends_at", FieldError::new("before_start", "must be after starts_at"));
        }
        if self.ends_at - self.starts_at > chrono::Duration::days(366) {
            v.add("ends_at", FieldError::new("too_long", "time off may last at most a year"));
        }
        let note = v.check_opt("note", self.note.as_deref().map(|n| bounded_text(n, 500)));
        v.finish(|| {
            Some(NewTimeOff {
                kind: self.kind,
                starts_at: self.starts_at,
                ends_at: self.ends_at,
                note: note?.flatten(),
            })
        })
    }
}

/// `GET /technicians/{id}/time-off`: periods that end after `from` and start before `to`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct TimeOffQuery {
    /// A year ago when absent.
    pub from: Option<DateTime<Utc>>,
    /// Two years ahead when absent; after `from`.
    pub to: Option<DateTime<Utc>>,
    pub cursor: Option<crate::Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

impl TimeOffQuery {
    /// The range asked for, with the defaults filled in; `to` must come after `from`.
    pub fn range(&self, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>), FieldErrors> {
        let from = self.from.unwrap_or(now - chrono::Duration::days(366));
        let to = self.to.unwrap_or(now + chrono::Duration::days(732));
        if to <= from {
            return Err(FieldErrors::single("to", FieldError::new("before_start", "must be after from")));
        }
        Ok((from, to))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HolidayView {
    pub id: HolidayId,
    pub day: NaiveDate,
    pub name: String,
}

/// `POST /holidays`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateHolidayRequest {
    pub day: NaiveDate,
    pub name: String,
}

impl CreateHolidayRequest {
    pub fn parse(&self) -> Result<(NaiveDate, String), FieldErrors> {
        let mut v = Validator::default();
        let name = v.check("name", bounded_text(&self.name, 120).and_then(|n| n.ok_or_else(required)));
        v.finish(|| Some((self.day, name?)))
    }
}

/// `PATCH /holidays/{id}`: move it to another day or rename it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateHolidayRequest {
    pub day: Option<NaiveDate>,
    pub name: Option<String>,
}

impl UpdateHolidayRequest {
    /// The holiday after applying these changes to `current`, validated as a whole.
    pub fn apply(&self, current: &HolidayView) -> Result<(NaiveDate, String), FieldErrors> {
        CreateHolidayRequest {
            day: self.day.unwrap_or(current.day),
            name: self.name.clone().unwrap_or_else(|| current.name.clone()),
        }
        .parse()
    }
}

/// `GET /holidays`: the days of one year at most, in date order.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct HolidayQuery {
    /// 1900 to 2200; the current year of the organization when absent.
    #[cfg_attr(feature = "openapi", param(minimum = 1900, maximum = 2200), schema(minimum = 1900, maximum = 2200))]
    pub year: Option<i32>,
}

impl HolidayQuery {
    pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2200;

    /// The first and last day of the year asked for (`current` when absent).
    pub fn days(&self, current: i32) -> Result<(NaiveDate, NaiveDate), FieldErrors> {
        let year = self.year.unwrap_or(current);
        Self::YEARS
            .contains(&year)
            .then(|| NaiveDate::from_ymd_opt(year, 1, 1).zip(NaiveDate::from_ymd_opt(year, 12, 31)))
            .flatten()
            .ok_or_else(|| FieldErrors::single("year", FieldError::new("out_of_range", "must be from 1900 to 2200")))
    }
}

/// `PUT /orders/{id}/booking`: book, move, resize or hand the order to another technician.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    pub technician_id: UserId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Book outside working hours or inside time off anyway (dispatchers only); the booking is flagged.
    #[serde(default)]
    pub force: bool,
}

impl BookingRequest {
    pub fn parse(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), FieldErrors> {
        let mut v = Validator::default();
        if self.end <= self.start {
            v.add("end", FieldError::new("before_start", "must be after start"));
        } else if self.end - self.start > chrono::Duration::hours(24) {
            v.add("end", FieldError::new("too_long", "a booking may last at most 24 hours"));
        }
        v.finish(|| Some((self.start, self.end)))
    }
}

/// `GET /schedule`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ScheduleQuery {
    pub from: DateTime<Utc>,
    /// At most 42 days after `from`.
    pub to: DateTime<Utc>,
    /// Comma-separated ids; all active technicians when absent (paged by `cursor`).
    pub technician_ids: Option<String>,
    pub cursor: Option<crate::Cursor>,
    /// Technicians per page, 1 to 100 (default 50).
    pub limit: Option<u32>,
}

/// One technician's lane of the calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TechnicianSchedule {
    pub technician_id: UserId,
    pub full_name: String,
    pub calendar_color: String,
    pub time_zone: TimeZone,
    /// The working hours in the range as real instants (daylight saving applied).
    pub working: Vec<Period>,
    pub time_off: Vec<TimeOffView>,
    pub bookings: Vec<BookingView>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl From<crate::schedule::Interval> for Period {
    fn from(interval: crate::schedule::Interval) -> Self {
        Self { start: interval.start, end: interval.end }
    }
}

/// An order as a block on the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BookingView {
    pub order_id: OrderId,
    pub number: String,
    pub title: String,
    pub status: OrderStatus,
    pub priority: Priority,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Booked outside working hours or inside time off by a dispatcher's decision.
    pub forced: bool,
    pub address: String,
    /// The customer to call and the site's address. A lane is the reader's own or read by someone
    /// who reads customers, so every booking carries it.
    pub contact: super::orders::OrderContact,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SchedulePage {
    pub holidays: Vec<HolidayView>,
    pub technicians: Vec<TechnicianSchedule>,
    pub next_cursor: Option<crate::Cursor>,
}

/// `GET /me/schedule`: the signed-in technician's day or week in their own time zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SchedulePeriod {
    #[default]
    Today,
    Week,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct MyScheduleQuery {
    #[serde(default)]
    pub period: SchedulePeriod,
}

/// `GET /schedule/slots`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct SlotSearchQuery {
    #[cfg_attr(feature = "openapi", param(minimum = 5, maximum = 1440), schema(minimum = 5, maximum = 1440))]
    pub duration_minutes: u32,
    /// Comma-separated skills every candidate must have.
    pub skills: Option<String>,
    pub zone: Option<String>,
    pub from: DateTime<Utc>,
    /// At most 42 days after `from`.
    pub to: DateTime<Utc>,
    /// How many slots, 1 to 200 (default 20).
    pub limit: Option<u32>,
}

/// A validated slot search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotSearch {
    pub duration: chrono::Duration,
    pub skills: Vec<Tag>,
    pub zone: Option<Tag>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub limit: usize,
}

impl SlotSearchQuery {
    pub fn parse(&self) -> Result<SlotSearch, FieldErrors> {
        let mut v = Validator::default();
        if !(5..=24 * 60).contains(&self.duration_minutes) {
            v.add("duration_minutes", FieldError::new("out_of_range", "must be 5 to 1440 minutes"));
        }
        check_range(&mut v, self.from, self.to);
        let skills = v.check("skills", parse_tags(self.skills.as_deref()));
        let zone = v.check_opt("zone", self.zone.as_deref().map(Tag::parse));
        let limit = match self.limit {
            None => Some(20),
            Some(n @ 1..=200) => Some(n as usize),
            Some(_) => {
                v.add("limit", FieldError::new("out_of_range", "must be 1 to 200"));
                None
            }
        };
        v.finish(|| {
            Some(SlotSearch {
                duration: chrono::Duration::minutes(i64::from(self.duration_minutes)),
                skills: skills?,
                zone: zone?,
                from: self.from,
                to: self.to,
                limit: limit?,
            })
        })
    }
}

/// Checks a calendar range: `to` after `from`, at most [`MAX_RANGE_DAYS`] apart.
pub fn check_range(v: &mut Validator, from: DateTime<Utc>, to: DateTime<Utc>) {
    if to <= from {
        v.add("to", FieldError::new("before_start", "must be after from"));
    } else if to - from > chrono::Duration::days(MAX_RANGE_DAYS) {
        v.add("to", FieldError::new("range_too_long", format!("at most {MAX_RANGE_DAYS} days after from")));
    }
}

/// A comma-separated list of tags; an empty or absent list is no tags.
pub fn parse_tags(raw: Option<&str>) -> Result<Vec<Tag>, FieldError> {
    raw.unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()).map(Tag::parse).collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SlotView {
    pub technician_id: UserId,
    pub full_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Jobs already booked that local day.
    pub jobs_that_day: u32,
}

/// A check a candidate passed or failed, with the reason in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckOutcome {
    /// `skills`, `zone`, `capacity` or `availability`.
    pub check: String,
    pub passed: bool,
    pub reason: String,
}

/// One technician ranked for an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CandidateView {
    pub technician_id: UserId,
    pub full_name: String,
    /// Passed every check.
    pub eligible: bool,
    /// Higher is better; only comparable within one answer.
    pub score: f64,
    /// Booked minutes that day.
    pub load_minutes: i64,
    /// From the previous job's site, where both have coordinates.
    pub distance_km: Option<f64>,
    /// When they could do it: the order's window if set and free, else their first free slot.
    pub proposed_start: Option<DateTime<Utc>>,
    pub checks: Vec<CheckOutcome>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuggestionsView {
    pub order_id: OrderId,
    /// Eligible first, best first.
    pub candidates: Vec<CandidateView>,
}

/// Where an offer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "offer_status", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OfferStatus {
    Pending,
    Accepted,
    Withdrawn,
    Declined,
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfferView {
    pub id: OfferId,
    pub order_id: OrderId,
    pub order_number: String,
    pub order_title: String,
    pub technician_id: UserId,
    pub status: OfferStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
}

/// `POST /orders/{id}/offers`: offer the order to the best candidates at once.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateOffersRequest {
    /// How many candidates; the organization's `offer_fanout` when absent.
    pub count: Option<u32>,
    /// Exactly these technicians instead of the ranked candidates.
    pub technician_ids: Option<Vec<UserId>>,
}

/// `GET /me/offers`, `GET /orders/{id}/offers`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct OffersQuery {
    pub status: Option<OfferStatus>,
    pub cursor: Option<crate::Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecurringPlanView {
    pub id: RecurringPlanId,
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub service_type_id: ServiceTypeId,
    pub technician_id: Option<UserId>,
    pub title: String,
    pub priority: Priority,
    /// RFC 5545 recurrence rule, e.g. `FREQ=WEEKLY;BYDAY=MO`.
    pub rrule: String,
    /// The first occurrence as wall-clock time in `time_zone`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-03-02T09:00:00"))]
    pub starts_local: NaiveDateTime,
    pub time_zone: TimeZone,
    pub duration_minutes: i32,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `POST /recurring-plans`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateRecurringPlanRequest {
    pub customer_id: CustomerId,
    pub site_id: SiteId,
    pub service_type_id: ServiceTypeId,
    pub technician_id: Option<UserId>,
    pub title: String,
    /// `normal` when absent.
    pub priority: Option<Priority>,
    pub rrule: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "2026-03-02T09:00:00"))]
    pub starts_local: NaiveDateTime,
    /// The organization's time zone when absent.
    pub time_zone: Option<String>,
    /// The service type's duration when absent.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1440))]
    pub duration_minutes: Option<i32>,
}

/// `PATCH /recurring-plans/{id}`: pause or resume, or change who does it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateRecurringPlanRequest {
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "super::patch")]
    pub technician_id: Option<Option<UserId>>,
    pub title: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct RecurringPlansQuery {
    pub cursor: Option<crate::Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// What one run of the recurring generator did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GenerationReport {
    pub plans: u32,
    pub orders_created: u32,
    /// Created without the preferred technician because they were busy or away.
    pub left_unassigned: u32,
}

/// The secret calendar feed of a technician; the URL is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarFeedView {
    pub url: String,
}

/// Text of at most `max` characters, trimmed; blank is none.
fn bounded_text(raw: &str, max: usize) -> Result<Option<String>, FieldError> {
    let text = raw.trim();
    if text.chars().count() > max {
        return Err(FieldError::new("too_long", format!("must have at most {max} characters")));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

fn required() -> FieldError {
    FieldError::new("required", "must not be blank")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    #[test]
    fn a_slot_search_reports_every_bad_field() {
        let query = SlotSearchQuery {
            duration_minutes: 0,
            skills: Some("hvac, Bad Tag!".into()),
            zone: None,
            from: at("2026-03-10T00:00:00Z"),
            to: at("2026-06-10T00:00:00Z"),
            limit: Some(0),
        };
        let errors = query.parse().unwrap_err();
        let fields: Vec<&str> = errors.fields.keys().map(String::as_str).collect();
        assert_eq!(fields, ["duration_minutes", "limit", "skills", "to"]);
    }

    #[test]
    fn tags_are_normalized_and_blank_entries_skipped() {
        let tags = parse_tags(Some("HVAC, ,electric")).unwrap();
        assert_eq!(tags.iter().map(Tag::to_string).collect::<Vec<_>>(), ["hvac", "electric"]);
    }

    #[test]
    fn time_off_must_end_after_it_starts() {
        let request = CreateTimeOffRequest {
            kind: TimeOffKind::Sick,
            starts_at: at("2026-03-10T00:00:00Z"),
            ends_at: at("2026-03-09T00:00:00Z"),
            note: Some("x".repeat(501)),
        };
        let errors = request.parse().unwrap_err();
        assert_eq!(errors.fields.keys().collect::<Vec<_>>(), ["ends_at", "note"]);
    }
}
