//! Working hours placed on the real timeline of a time zone.

use super::Interval;
use super::local_time::{earliest_instant, latest_instant};
use crate::{Shift, WorkingHours};
use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;

impl WorkingHours {
    pub fn shifts_on(&self, weekday: Weekday) -> &[Shift] {
        match weekday {
            Weekday::Mon => &self.mon,
            Weekday::Tue => &self.tue,
            Weekday::Wed => &self.wed,
            Weekday::Thu => &self.thu,
            Weekday::Fri => &self.fri,
            Weekday::Sat => &self.sat,
            Weekday::Sun => &self.sun,
        }
    }

    /// The shifts in `tz` that touch `within`, clipped to it and sorted by start.
    ///
    /// Across clock changes a shift keeps its wall times: a repeated start takes the earlier instant, a repeated
    /// end the later one, and a skipped time moves to the end of the gap. A shift that falls entirely into a
    /// gap disappears.
    pub fn intervals(&self, tz: Tz, within: Interval) -> Vec<Interval> {
        let mut intervals: Vec<Interval> =
            self.shift_intervals(tz, within).filter_map(|shift| shift.intersection(&within)).collect();
        intervals.sort_unstable_by_key(|interval| interval.start);
        intervals
    }

    /// Whether `interval` fits inside a single shift, as a booking must.
    pub fn covers(&self, tz: Tz, interval: Interval) -> bool {
        self.shift_intervals(tz, interval).any(|shift| shift.contains(&interval))
    }

    /// The unclipped shifts of every local day touching `within`, with a day of margin on both sides.
    fn shift_intervals(&self, tz: Tz, within: Interval) -> impl Iterator<Item = Interval> + '_ {
        let local_date = |instant: DateTime<Utc>| instant.with_timezone(&tz).date_naive();
        let first = local_date(within.start).pred_opt().unwrap_or(NaiveDate::MIN);
        let last = local_date(within.end).succ_opt().unwrap_or(NaiveDate::MAX);
        first.iter_days().take_while(move |day| *day <= last).flat_map(move |day| {
            self.shifts_on(day.weekday()).iter().filter_map(move |shift| {
                Interval::new(
                    earliest_instant(tz, day.and_time(shift.start)),
                    latest_instant(tz, day.and_time(shift.end)),
                )
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveTime, TimeZone};

    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    fn time(hour: u32, minute: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(hour, minute, 0).unwrap()
    }

    fn shift(start: (u32, u32), end: (u32, u32)) -> Shift {
        Shift { start: time(start.0, start.1), end: time(end.0, end.1) }
    }

    fn every_day(shifts: &[Shift]) -> WorkingHours {
        let day = shifts.to_vec();
        WorkingHours {
            mon: day.clone(),
            tue: day.clone(),
            wed: day.clone(),
            thu: day.clone(),
            fri: day.clone(),
            sat: day.clone(),
            sun: day,
        }
    }

    fn utc(day: (i32, u32, u32), hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(day.0, day.1, day.2, hour, minute, 0).unwrap()
    }

    fn span(start: DateTime<Utc>, end: DateTime<Utc>) -> Interval {
        Interval::new(start, end).unwrap()
    }

    /// Midnight to midnight UTC of one day: Berlin's shifts of that local day fall inside it.
    fn utc_day(day: (i32, u32, u32)) -> Interval {
        span(utc(day, 0, 0), utc(day, 23, 59))
    }

    const SPRING: (i32, u32, u32) = (2026, 3, 29);
    const AUTUMN: (i32, u32, u32) = (2026, 10, 25);

    #[test]
    fn nine_to_six_in_berlin_follows_the_clock_through_both_changes() {
        let hours = every_day(&[shift((9, 0), (18, 0))]);
        let winter = (2026, 1, 14);
        assert_eq!(hours.intervals(BERLIN, utc_day(winter)), [span(utc(winter, 8, 0), utc(winter, 17, 0))]);
        assert_eq!(hours.intervals(BERLIN, utc_day(SPRING)), [span(utc(SPRING, 7, 0), utc(SPRING, 16, 0))]);
        assert_eq!(hours.intervals(BERLIN, utc_day(AUTUMN)), [span(utc(AUTUMN, 8, 0), utc(AUTUMN, 17, 0))]);
    }

    #[test]
    fn shifts_touching_the_spring_gap_lose_the_skipped_hour() {
        let night = span(utc((2026, 3, 28), 20, 0), utc(SPRING, 6, 0));
        // 01:00 CET → 04:00 CEST is two real hours.
        let crossing = every_day(&[shift((1, 0), (4, 0))]);
        assert_eq!(crossing.intervals(BERLIN, night), [span(utc(SPRING, 0, 0), utc(SPRING, 2, 0))]);
        // Starting inside the gap means starting when it ends, 03:00 CEST.
        let from_the_gap = every_day(&[shift((2, 30), (5, 0))]);
        assert_eq!(from_the_gap.intervals(BERLIN, night), [span(utc(SPRING, 1, 0), utc(SPRING, 3, 0))]);
        let inside_the_gap = every_day(&[shift((2, 10), (2, 50))]);
        assert_eq!(inside_the_gap.intervals(BERLIN, night), []);
    }

    #[test]
    fn shifts_in_the_repeated_autumn_hour_take_all_of_it() {
        let night = span(utc((2026, 10, 24), 20, 0), utc(AUTUMN, 6, 0));
        // From the first 02:15 (CEST) to the second 02:45 (CET).
        let repeated = every_day(&[shift((2, 15), (2, 45))]);
        assert_eq!(repeated.intervals(BERLIN, night), [span(utc(AUTUMN, 0, 15), utc(AUTUMN, 1, 45))]);
    }

    #[test]
    fn a_day_off_yields_nothing() {
        let weekdays_only = WorkingHours { sun: Vec::new(), ..every_day(&[shift((9, 0), (18, 0))]) };
        assert_eq!(weekdays_only.intervals(BERLIN, utc_day(SPRING)), []);
        assert!(!weekdays_only.covers(BERLIN, span(utc(SPRING, 9, 0), utc(SPRING, 10, 0))));
    }

    #[test]
    fn intervals_are_clipped_and_sorted_across_days() {
        let hours = every_day(&[shift((14, 0), (18, 0)), shift((8, 0), (12, 0))]);
        let monday = (2026, 1, 12);
        let tuesday = (2026, 1, 13);
        let within = span(utc(monday, 10, 0), utc(tuesday, 9, 0));
        assert_eq!(
            hours.intervals(BERLIN, within),
            [
                span(utc(monday, 10, 0), utc(monday, 11, 0)),
                span(utc(monday, 13, 0), utc(monday, 17, 0)),
                span(utc(tuesday, 7, 0), utc(tuesday, 9, 0)),
            ]
        );
    }

    #[test]
    fn covers_needs_one_shift_to_hold_the_whole_interval() {
        let hours = every_day(&[shift((8, 0), (12, 0)), shift((12, 0), (16, 0))]);
        let day = (2026, 1, 14);
        assert!(hours.covers(BERLIN, span(utc(day, 7, 0), utc(day, 11, 0))));
        assert!(hours.covers(BERLIN, span(utc(day, 8, 0), utc(day, 9, 0))));
        assert!(!hours.covers(BERLIN, span(utc(day, 10, 0), utc(day, 12, 0))), "spans two shifts");
        assert!(!hours.covers(BERLIN, span(utc(day, 6, 59), utc(day, 8, 0))), "starts before the shift");
    }
}
