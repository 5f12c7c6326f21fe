//! Wall-clock time to real time across daylight-saving changes.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

const SECONDS_PER_DAY: i64 = 24 * 60 * 60;

/// When the clock shows `wall` for the first time: the earlier instant of a repeated (fall-back) time,
/// the end of the gap for a skipped (spring-forward) time.
pub(super) fn earliest_instant(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    tz.from_local_datetime(&wall).earliest().map_or_else(|| end_of_gap(tz, wall), |instant| instant.to_utc())
}

/// The local day `day` as real time: from its first midnight to the next day's, across DST changes
/// (a midnight skipped by a spring-forward change starts the day at the end of the gap).
pub fn local_day(tz: Tz, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |day: NaiveDate| earliest_instant(tz, day.and_time(NaiveTime::MIN));
    (midnight(day), midnight(day + Duration::days(1)))
}

/// When the clock shows `wall` for the last time: the later instant of a repeated (fall-back) time,
/// the end of the gap for a skipped (spring-forward) time.
pub(super) fn latest_instant(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    tz.from_local_datetime(&wall).latest().map_or_else(|| end_of_gap(tz, wall), |instant| instant.to_utc())
}

/// The first instant at which the clock shows `wall` or later: for a skipped wall time, the end of the gap.
fn end_of_gap(tz: Tz, wall: NaiveDateTime) -> DateTime<Utc> {
    // UTC offsets stay within −12 h … +14 h, so the clock passes `wall` inside this window.
    let as_if_utc = wall.and_utc();
    first_second_where(as_if_utc - Duration::hours(15), as_if_utc + Duration::hours(13), |instant| {
        instant.with_timezone(&tz).naive_local() >= wall
    })
}

/// The earliest instant at or after `from` whose wall-clock time of day is a whole multiple of `step_seconds`
/// since local midnight. `step_seconds` must be positive.
pub(super) fn next_aligned(tz: Tz, from: DateTime<Utc>, step_seconds: i64) -> DateTime<Utc> {
    let offset_at = |instant: DateTime<Utc>| instant.with_timezone(&tz).offset().fix();
    let mut from = ceil_to_second(from);
    loop {
        let local = from.with_timezone(&tz);
        let offset = local.offset().fix();
        let candidate = from + until_aligned(local.time(), step_seconds);
        if offset_at(candidate) == offset {
            return candidate;
        }
        // The clocks change before the candidate; alignment restarts from the new wall time, which after a
        // fall-back may be an aligned time that comes before the candidate.
        from = first_second_where(from, candidate, |instant| offset_at(instant) != offset);
    }
}

/// Time until the wall clock next shows an aligned time; alignment restarts at every local midnight.
fn until_aligned(time: NaiveTime, step_seconds: i64) -> Duration {
    let since_midnight = i64::from(time.num_seconds_from_midnight());
    let past_step = since_midnight % step_seconds;
    if past_step == 0 {
        Duration::zero()
    } else {
        Duration::seconds((step_seconds - past_step).min(SECONDS_PER_DAY - since_midnight))
    }
}

fn ceil_to_second(instant: DateTime<Utc>) -> DateTime<Utc> {
    match instant.timestamp_subsec_nanos() {
        0 => instant,
        nanos => instant + Duration::nanoseconds(1_000_000_000 - i64::from(nanos)),
    }
}

/// Bisects whole seconds for the first instant in `(before, after]` where `reached` holds. `before` and `after`
/// are whole seconds apart, `reached` fails at `before`, holds at `after` and switches only once between them.
fn first_second_where(
    mut before: DateTime<Utc>,
    mut after: DateTime<Utc>,
    reached: impl Fn(DateTime<Utc>) -> bool,
) -> DateTime<Utc> {
    while after - before > Duration::seconds(1) {
        let middle = before + Duration::seconds((after - before).num_seconds() / 2);
        if reached(middle) {
            after = middle;
        } else {
            before = middle;
        }
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn wall(date: (i32, u32, u32), hour: u32, minute: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(date.0, date.1, date.2).unwrap().and_hms_opt(hour, minute, 0).unwrap()
    }

    fn utc(date: (i32, u32, u32), hour: u32, minute: u32) -> DateTime<Utc> {
        wall(date, hour, minute).and_utc()
    }

    const BERLIN: Tz = chrono_tz::Europe::Berlin;
    const SPRING: (i32, u32, u32) = (2026, 3, 29);
    const AUTUMN: (i32, u32, u32) = (2026, 10, 25);

    #[test]
    fn skipped_wall_times_resolve_to_the_end_of_the_gap() {
        assert_eq!(earliest_instant(BERLIN, wall(SPRING, 2, 30)), utc(SPRING, 1, 0));
        assert_eq!(latest_instant(BERLIN, wall(SPRING, 2, 0)), utc(SPRING, 1, 0));
        assert_eq!(earliest_instant(BERLIN, wall(SPRING, 3, 0)), utc(SPRING, 1, 0));
        assert_eq!(earliest_instant(BERLIN, wall(SPRING, 1, 59)), utc(SPRING, 0, 59));
    }

    #[test]
    fn local_days_last_as_long_as_the_clock_says() {
        let spring = NaiveDate::from_ymd_opt(SPRING.0, SPRING.1, SPRING.2).unwrap();
        assert_eq!(local_day(BERLIN, spring), (utc((2026, 3, 28), 23, 0), utc(SPRING, 22, 0)));
        let autumn = NaiveDate::from_ymd_opt(AUTUMN.0, AUTUMN.1, AUTUMN.2).unwrap();
        let (start, end) = local_day(BERLIN, autumn);
        assert_eq!(end - start, Duration::hours(25));
    }

    #[test]
    fn repeated_wall_times_resolve_to_the_earlier_or_later_instant() {
        assert_eq!(earliest_instant(BERLIN, wall(AUTUMN, 2, 30)), utc(AUTUMN, 0, 30));
        assert_eq!(latest_instant(BERLIN, wall(AUTUMN, 2, 30)), utc(AUTUMN, 1, 30));
    }

    #[test]
    fn alignment_follows_the_local_clock() {
        let kolkata = chrono_tz::Asia::Kolkata;
        // 09:31 UTC is 15:01 in Kolkata; the next quarter hour there is 15:15, 09:45 UTC.
        assert_eq!(next_aligned(kolkata, utc((2026, 5, 4), 9, 31), 15 * 60), utc((2026, 5, 4), 9, 45));
        assert_eq!(next_aligned(kolkata, utc((2026, 5, 4), 9, 45), 15 * 60), utc((2026, 5, 4), 9, 45));
        let just_after = utc((2026, 5, 4), 9, 45) + Duration::milliseconds(1);
        assert_eq!(next_aligned(kolkata, just_after, 15 * 60), utc((2026, 5, 4), 10, 0));
        // A step that does not divide the day restarts at midnight: 23:50 → 00:00, not 00:10.
        assert_eq!(next_aligned(chrono_tz::UTC, utc((2026, 5, 4), 23, 51), 25 * 60), utc((2026, 5, 5), 0, 0));
    }

    #[test]
    fn alignment_crosses_clock_changes() {
        let hour = 60 * 60;
        // Spring: 01:30 CET, the next full hour on the wall is 03:00 CEST.
        assert_eq!(next_aligned(BERLIN, utc(SPRING, 0, 30), hour), utc(SPRING, 1, 0));
        // Autumn: 02:30 CEST; the clock falls back to 02:00 CET before it would reach 03:00 CEST.
        assert_eq!(next_aligned(BERLIN, utc(AUTUMN, 0, 30), hour), utc(AUTUMN, 1, 0));
        assert_eq!(next_aligned(BERLIN, utc(AUTUMN, 1, 30), hour), utc(AUTUMN, 2, 0));
        // With 45 minutes the grid is 01:30, 02:15, 03:00, … on either side of the change.
        let three_quarters = 45 * 60;
        // Spring: from 01:50 CET, 02:15 does not exist; the clock jumps straight to 03:00 CEST.
        assert_eq!(next_aligned(BERLIN, utc(SPRING, 0, 50), three_quarters), utc(SPRING, 1, 0));
        // Autumn: from 02:40 CEST the clock falls back to 02:00 CET, which is off the grid; 02:15 CET comes next.
        assert_eq!(next_aligned(BERLIN, utc(AUTUMN, 0, 40), three_quarters), utc(AUTUMN, 1, 15));
    }
}
