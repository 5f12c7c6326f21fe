//! Free slots: where a job of a given length could be booked, across many technicians at once.
//!
//! [`find_slots`] offers a start time when all of these hold for the technician:
//!
//! - **Working hours.** The slot lies entirely inside one shift of the technician's working hours, read in the
//!   technician's own time zone, and inside the query window `within`. Back-to-back shifts are not joined.
//! - **Time off.** It does not overlap any of the technician's time off.
//! - **Holidays.** It does not overlap a holiday. A holiday is a date in the technician's time zone; the whole
//!   local day is unavailable.
//! - **Travel buffer.** It keeps `travel_buffer` away from every booking on both sides: it starts at least
//!   `travel_buffer` after the booking ends, or ends at least `travel_buffer` before the booking starts.
//! - **Daily capacity.** The technician has fewer than `max_jobs_per_day` bookings on the local date the slot
//!   starts; a booking counts on the local date of its start. The slot reports that count as `jobs_that_day`.
//! - **Alignment.** The start sits on the `granularity` grid of the technician's local clock: its minutes since
//!   local midnight are a multiple of the granularity in whole minutes (with 15 minutes: 09:00, 09:15, …).
//!
//! A free gap is a stretch of one shift that no time off, holiday or buffered booking touches. Each free gap
//! that can hold the job yields one slot, at its earliest aligned start, so the list shows where technicians are
//! free rather than every quarter hour of it.
//!
//! Slots are ranked by start, earliest first, then by fewer `jobs_that_day`, then by technician id, and the list
//! is cut to `limit`.
//!
//! A query with a non-positive `duration` or a `granularity` under one minute finds nothing; a negative
//! `travel_buffer` counts as none. Shifts keep their wall-clock times across daylight-saving changes, as
//! described on [`WorkingHours::intervals`].

use super::Interval;
use super::interval::{carve, merged};
use super::local_time::{earliest_instant, next_aligned};
use crate::{UserId, WorkingHours};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::BTreeMap;

/// Everything about one technician that decides when they are free.
#[derive(Debug, Clone)]
pub struct TechnicianCalendar {
    pub technician: UserId,
    pub tz: Tz,
    pub hours: WorkingHours,
    pub time_off: Vec<Interval>,
    pub bookings: Vec<Interval>,
    pub max_jobs_per_day: u32,
}

/// What to look for; see the [module docs](self) for how each field is applied.
#[derive(Debug, Clone)]
pub struct SlotQuery {
    pub within: Interval,
    pub duration: Duration,
    pub travel_buffer: Duration,
    pub granularity: Duration,
    pub holidays: Vec<NaiveDate>,
    pub limit: usize,
}

/// A start time at which the job could be booked with this technician.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Slot {
    pub technician: UserId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Bookings the technician already has on the local date of `start`.
    pub jobs_that_day: u32,
}

/// The best `query.limit` slots across `calendars`, by the rules in the [module docs](self).
pub fn find_slots(query: &SlotQuery, calendars: &[TechnicianCalendar]) -> Vec<Slot> {
    let step_seconds = query.granularity.num_minutes() * 60;
    if query.duration <= Duration::zero() || step_seconds <= 0 {
        return Vec::new();
    }
    let mut slots: Vec<Slot> = calendars.iter().flat_map(|calendar| calendar.slots(query, step_seconds)).collect();
    slots.sort_unstable_by_key(|slot| (slot.start, slot.jobs_that_day, slot.technician));
    slots.truncate(query.limit);
    slots
}

impl TechnicianCalendar {
    /// One slot per free gap that can hold the job.
    fn slots(&self, query: &SlotQuery, step_seconds: i64) -> Vec<Slot> {
        let jobs_per_day = self.jobs_per_day();
        let working = self.hours.intervals(self.tz, query.within);
        let gaps = carve(&working, &merged(self.blocked(query)));
        gaps.into_iter()
            .filter_map(|gap| {
                let start = next_aligned(self.tz, gap.start, step_seconds);
                let end = start.checked_add_signed(query.duration).filter(|end| *end <= gap.end)?;
                // A gap lies inside one shift, so every start it could offer falls on the same local date.
                let jobs_that_day = jobs_per_day.get(&self.local_date(start)).copied().unwrap_or(0);
                (jobs_that_day < self.max_jobs_per_day).then_some(Slot {
                    technician: self.technician,
                    start,
                    end,
                    jobs_that_day,
                })
            })
            .collect()
    }

    fn jobs_per_day(&self) -> BTreeMap<NaiveDate, u32> {
        let mut jobs = BTreeMap::new();
        for booking in &self.bookings {
            *jobs.entry(self.local_date(booking.start)).or_insert(0) += 1;
        }
        jobs
    }

    /// Time off, holidays and bookings widened by the travel buffer: a slot may overlap none of them.
    fn blocked(&self, query: &SlotQuery) -> Vec<Interval> {
        let buffer = query.travel_buffer.max(Duration::zero());
        let holidays = query.holidays.iter().filter_map(|day| self.local_day(*day));
        let bookings = self.bookings.iter().filter_map(|booking| {
            Interval::new(
                booking.start.checked_sub_signed(buffer).unwrap_or(DateTime::<Utc>::MIN_UTC),
                booking.end.checked_add_signed(buffer).unwrap_or(DateTime::<Utc>::MAX_UTC),
            )
        });
        self.time_off.iter().copied().chain(holidays).chain(bookings).collect()
    }

    /// The whole local day, midnight to midnight in the technician's time zone.
    fn local_day(&self, day: NaiveDate) -> Option<Interval> {
        let midnight = |day: NaiveDate| earliest_instant(self.tz, day.and_time(NaiveTime::MIN));
        Interval::new(midnight(day), midnight(day.succ_opt()?))
    }

    fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.tz).date_naive()
    }
}

#[cfg(test)]
mod tests;
