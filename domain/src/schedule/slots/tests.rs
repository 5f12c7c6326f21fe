use super::*;
use crate::Shift;
use chrono::{LocalResult, TimeZone, Timelike};
use chrono_tz::{America, Asia, Europe};
use proptest::prelude::*;
use uuid::Uuid;

fn utc(day: (i32, u32, u32), hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(day.0, day.1, day.2, hour, minute, 0).unwrap()
}

fn span(start: DateTime<Utc>, end: DateTime<Utc>) -> Interval {
    Interval::new(start, end).unwrap()
}

fn minutes_to_time(minutes: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(minutes / 60, minutes % 60, 0).unwrap()
}

fn every_day(start: (u32, u32), end: (u32, u32)) -> WorkingHours {
    let day = vec![Shift { start: minutes_to_time(start.0 * 60 + start.1), end: minutes_to_time(end.0 * 60 + end.1) }];
    week([day.clone(), day.clone(), day.clone(), day.clone(), day.clone(), day.clone(), day])
}

fn week([mon, tue, wed, thu, fri, sat, sun]: [Vec<Shift>; 7]) -> WorkingHours {
    WorkingHours { mon, tue, wed, thu, fri, sat, sun }
}

fn calendar(id: u128, tz: Tz, hours: WorkingHours) -> TechnicianCalendar {
    TechnicianCalendar {
        technician: UserId(Uuid::from_u128(id)),
        tz,
        hours,
        time_off: Vec::new(),
        bookings: Vec::new(),
        max_jobs_per_day: 3,
    }
}

fn query(within: Interval) -> SlotQuery {
    SlotQuery {
        within,
        duration: Duration::minutes(60),
        travel_buffer: Duration::minutes(30),
        granularity: Duration::minutes(15),
        holidays: Vec::new(),
        limit: 20,
    }
}

fn starts(slots: &[Slot]) -> Vec<DateTime<Utc>> {
    slots.iter().map(|slot| slot.start).collect()
}

// Berlin is UTC+1 in January.
const MONDAY: (i32, u32, u32) = (2026, 1, 12);
const TUESDAY: (i32, u32, u32) = (2026, 1, 13);
const WEDNESDAY: (i32, u32, u32) = (2026, 1, 14);

#[test]
fn the_travel_buffer_keeps_slots_clear_of_bookings() {
    let mut berlin = calendar(1, Europe::Berlin, every_day((8, 0), (17, 0)));
    berlin.bookings = vec![span(utc(MONDAY, 11, 0), utc(MONDAY, 12, 0)), span(utc(MONDAY, 7, 0), utc(MONDAY, 9, 0))];
    let slots = find_slots(&query(span(utc(MONDAY, 0, 0), utc(MONDAY, 23, 0))), &[berlin]);
    // Free: 09:30–10:30 (exactly one hour between the buffers) and 12:30–16:00.
    assert_eq!(starts(&slots), [utc(MONDAY, 9, 30), utc(MONDAY, 12, 30)]);
    assert_eq!(slots[0].end, utc(MONDAY, 10, 30));
    assert!(slots.iter().all(|slot| slot.jobs_that_day == 2));
}

#[test]
fn a_day_at_capacity_offers_nothing() {
    let mut berlin = calendar(1, Europe::Berlin, every_day((8, 0), (17, 0)));
    berlin.bookings = vec![span(utc(MONDAY, 7, 0), utc(MONDAY, 8, 0)), span(utc(MONDAY, 12, 0), utc(MONDAY, 13, 0))];
    berlin.max_jobs_per_day = 2;
    let slots = find_slots(&query(span(utc(MONDAY, 0, 0), utc(TUESDAY, 23, 0))), &[berlin]);
    assert_eq!(starts(&slots), [utc(TUESDAY, 7, 0)]);
    assert_eq!(slots[0].jobs_that_day, 0);
}

#[test]
fn starts_align_to_the_local_clock() {
    // 09:10 in Kolkata is 03:40 UTC; the first local quarter hour is 09:15, 03:45 UTC.
    let kolkata = calendar(1, Asia::Kolkata, every_day((9, 10), (18, 0)));
    let slots = find_slots(&query(span(utc(MONDAY, 0, 0), utc(MONDAY, 23, 0))), &[kolkata]);
    assert_eq!(starts(&slots), [utc(MONDAY, 3, 45)]);
}

#[test]
fn a_holiday_is_the_technicians_local_day() {
    // 20:00–23:00 in New York is 01:00–04:00 UTC the next day.
    let new_york = calendar(1, America::New_York, every_day((20, 0), (23, 0)));
    let holidays = vec![NaiveDate::from_ymd_opt(2026, 1, 12).unwrap()];
    let slots =
        find_slots(&SlotQuery { holidays, ..query(span(utc(MONDAY, 0, 0), utc(WEDNESDAY, 12, 0))) }, &[new_york]);
    assert_eq!(starts(&slots), [utc(MONDAY, 1, 0), utc(WEDNESDAY, 1, 0)]);
}

#[test]
fn ties_go_to_fewer_jobs_then_the_lower_id() {
    let afternoon_job = vec![span(utc(MONDAY, 14, 0), utc(MONDAY, 15, 0))];
    let busy_high =
        TechnicianCalendar { bookings: afternoon_job.clone(), ..calendar(3, Tz::UTC, every_day((8, 0), (17, 0))) };
    let busy_low = TechnicianCalendar { bookings: afternoon_job, ..calendar(2, Tz::UTC, every_day((8, 0), (17, 0))) };
    let idle = calendar(9, Tz::UTC, every_day((8, 0), (17, 0)));
    let slots = find_slots(
        &SlotQuery { limit: 3, ..query(span(utc(MONDAY, 0, 0), utc(MONDAY, 23, 0))) },
        &[busy_high, idle, busy_low],
    );
    let ranked: Vec<(u128, DateTime<Utc>, u32)> =
        slots.iter().map(|slot| (slot.technician.0.as_u128(), slot.start, slot.jobs_that_day)).collect();
    assert_eq!(ranked, [(9, utc(MONDAY, 8, 0), 0), (2, utc(MONDAY, 8, 0), 1), (3, utc(MONDAY, 8, 0), 1)]);
}

#[test]
fn back_to_back_shifts_are_separate_gaps() {
    let split = vec![
        Shift { start: minutes_to_time(8 * 60), end: minutes_to_time(12 * 60) },
        Shift { start: minutes_to_time(12 * 60), end: minutes_to_time(16 * 60) },
    ];
    let hours = WorkingHours { mon: split, ..WorkingHours::default() };
    let slots = find_slots(&query(span(utc(MONDAY, 0, 0), utc(MONDAY, 23, 0))), &[calendar(1, Tz::UTC, hours)]);
    assert_eq!(starts(&slots), [utc(MONDAY, 8, 0), utc(MONDAY, 12, 0)]);
}

#[test]
fn degenerate_queries_find_nothing() {
    let technicians = [calendar(1, Tz::UTC, every_day((8, 0), (17, 0)))];
    let base = query(span(utc(MONDAY, 0, 0), utc(MONDAY, 23, 0)));
    assert_eq!(find_slots(&base, &technicians).len(), 1);
    assert_eq!(find_slots(&SlotQuery { duration: Duration::zero(), ..base.clone() }, &technicians), []);
    assert_eq!(find_slots(&SlotQuery { granularity: Duration::seconds(59), ..base.clone() }, &technicians), []);
    assert_eq!(find_slots(&SlotQuery { limit: 0, ..base }, &technicians), []);
}

// Property tests: random calendars around the 2026 clock changes, checked against the rules directly.

/// Why a job from `stretch.start` to `stretch.end` would break a rule that does not depend on where it starts,
/// checked against the calendar itself rather than the finder's free gaps.
fn check_free(query: &SlotQuery, calendar: &TechnicianCalendar, stretch: Interval) -> Result<(), String> {
    if !query.within.contains(&stretch) {
        return Err("outside the window".into());
    }
    if !calendar.hours.covers(calendar.tz, stretch) {
        return Err("not inside one shift".into());
    }
    if let Some(time_off) = calendar.time_off.iter().find(|time_off| time_off.overlaps(&stretch)) {
        return Err(format!("overlaps time off {time_off:?}"));
    }
    let first_day = calendar.local_date(stretch.start);
    let last_day = calendar.local_date(stretch.end - Duration::nanoseconds(1));
    if let Some(holiday) =
        first_day.iter_days().take_while(|day| *day <= last_day).find(|day| query.holidays.contains(day))
    {
        return Err(format!("on the holiday {holiday}"));
    }
    let buffer = query.travel_buffer;
    let too_close = |booking: &&Interval| stretch.start < booking.end + buffer && booking.start < stretch.end + buffer;
    if let Some(booking) = calendar.bookings.iter().find(too_close) {
        return Err(format!("within the travel buffer of {booking:?}"));
    }
    Ok(())
}

/// The jobs that day if `start` is a valid slot start, why not otherwise.
fn check_slot(query: &SlotQuery, calendar: &TechnicianCalendar, start: DateTime<Utc>) -> Result<u32, String> {
    check_free(query, calendar, span(start, start + query.duration))?;
    let local = start.with_timezone(&calendar.tz);
    let step = query.granularity.num_seconds();
    if local.nanosecond() != 0 || i64::from(local.num_seconds_from_midnight()) % step != 0 {
        return Err(format!("{local} is off the local grid"));
    }
    let day = calendar.local_date(start);
    let jobs = calendar.bookings.iter().filter(|booking| calendar.local_date(booking.start) == day).count();
    let jobs = u32::try_from(jobs).unwrap();
    if jobs >= calendar.max_jobs_per_day {
        return Err(format!("{day} already has {jobs} jobs"));
    }
    Ok(jobs)
}

/// Every instant in (and a little around) `within` whose local wall time is on the grid, in no particular order.
fn grid_instants(tz: Tz, within: Interval, step_minutes: u32) -> Vec<DateTime<Utc>> {
    let first_day = within.start.with_timezone(&tz).date_naive();
    let last_day = within.end.with_timezone(&tz).date_naive();
    let mut instants = Vec::new();
    for day in first_day.iter_days().take_while(|day| *day <= last_day) {
        for minute in (0..24 * 60).step_by(step_minutes as usize) {
            match tz.from_local_datetime(&day.and_time(minutes_to_time(minute))) {
                LocalResult::Single(instant) => instants.push(instant.to_utc()),
                LocalResult::Ambiguous(earlier, later) => instants.extend([earlier.to_utc(), later.to_utc()]),
                LocalResult::None => {}
            }
        }
    }
    instants
}

fn rank(slot: &Slot) -> (DateTime<Utc>, u32, UserId) {
    (slot.start, slot.jobs_that_day, slot.technician)
}

#[derive(Debug, Clone)]
struct Scenario {
    query: SlotQuery,
    calendars: Vec<TechnicianCalendar>,
}

/// Up to four shifts a day at any minute, often near the 02:00–03:00 clock changes, sometimes back to back.
fn day_shifts() -> impl Strategy<Value = Vec<Shift>> {
    let minute = prop_oneof![3 => 0u32..24 * 60, 1 => 100u32..200];
    prop::collection::vec(minute, 0..=8).prop_map(|mut minutes| {
        minutes.sort_unstable();
        minutes
            .chunks_exact(2)
            .filter(|pair| pair[0] < pair[1])
            .map(|pair| Shift { start: minutes_to_time(pair[0]), end: minutes_to_time(pair[1]) })
            .collect()
    })
}

/// A technician, with times as minutes after the window start minus a day.
#[derive(Debug, Clone)]
struct TechnicianSpec {
    id: u128,
    tz: Tz,
    days: [Vec<Shift>; 7],
    /// (pause before, length) of consecutive bookings, so they never overlap.
    booking_steps: Vec<(i64, i64)>,
    time_off: Vec<(i64, i64)>,
    max_jobs_per_day: u32,
}

fn technician() -> impl Strategy<Value = TechnicianSpec> {
    (
        any::<u128>(),
        prop::sample::select(vec![Europe::Berlin, Europe::Moscow, America::New_York, Asia::Kolkata]),
        prop::array::uniform7(day_shifts()),
        prop::collection::vec((0i64..1800, 15i64..240), 0..30),
        prop::collection::vec((0i64..18 * 1440, 30i64..2000), 0..3),
        1u32..=4,
    )
        .prop_map(|(id, tz, days, booking_steps, time_off, max_jobs_per_day)| TechnicianSpec {
            id,
            tz,
            days,
            booking_steps,
            time_off,
            max_jobs_per_day,
        })
}

fn scenario() -> impl Strategy<Value = Scenario> {
    // Windows of up to 14 days that often cross a 2026 clock change (US: Mar 8, Nov 1; EU: Mar 29, Oct 25).
    let first_days = vec![(2026, 3, 2), (2026, 3, 24), (2026, 10, 19), (2026, 10, 27)];
    (
        (prop::sample::select(first_days), 0i64..7 * 1440, 60i64..=14 * 1440),
        (5i64..=240, 0i64..=90, prop::sample::select(vec![15u32, 20, 25, 30, 45, 60])),
        (prop::collection::vec(0u64..22, 0..3), 1usize..40),
        prop::collection::vec(technician(), 1..=4),
    )
        .prop_map(
            |((first_day, offset, length), (duration, buffer, granularity), (holidays, limit), technicians)| {
                let origin = utc(first_day, 0, 0) + Duration::minutes(offset);
                let within = span(origin, origin + Duration::minutes(length));
                let at = |minutes: i64| origin - Duration::days(1) + Duration::minutes(minutes);
                let first_date = origin.date_naive();
                let calendars = technicians
                    .into_iter()
                    .map(|spec| {
                        let mut cursor = 0;
                        let bookings = spec
                            .booking_steps
                            .iter()
                            .map(|(pause, length)| {
                                cursor += pause + length;
                                span(at(cursor - length), at(cursor))
                            })
                            .collect();
                        TechnicianCalendar {
                            technician: UserId(Uuid::from_u128(spec.id)),
                            tz: spec.tz,
                            hours: week(spec.days),
                            time_off: spec
                                .time_off
                                .iter()
                                .map(|(start, length)| span(at(*start), at(start + length)))
                                .collect(),
                            bookings,
                            max_jobs_per_day: spec.max_jobs_per_day,
                        }
                    })
                    .collect();
                let query = SlotQuery {
                    within,
                    duration: Duration::minutes(duration),
                    travel_buffer: Duration::minutes(buffer),
                    granularity: Duration::minutes(granularity.into()),
                    holidays: holidays.into_iter().map(|days| first_date + chrono::Days::new(days)).collect(),
                    limit,
                };
                Scenario { query, calendars }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_slot_keeps_every_rule(scenario in scenario()) {
        let Scenario { query, calendars } = &scenario;
        let slots = find_slots(query, calendars);
        prop_assert!(slots.len() <= query.limit);
        for slot in &slots {
            let calendar = calendars.iter().find(|calendar| calendar.technician == slot.technician).unwrap();
            prop_assert_eq!(slot.end - slot.start, query.duration);
            let jobs = check_slot(query, calendar, slot.start).map_err(|why| TestCaseError::fail(format!("{slot:?}: {why}")))?;
            prop_assert_eq!(slot.jobs_that_day, jobs);
        }
        for pair in slots.windows(2) {
            prop_assert!(rank(&pair[0]) <= rank(&pair[1]), "out of order: {:?}", pair);
        }
        let unlimited = find_slots(&SlotQuery { limit: usize::MAX, ..query.clone() }, calendars);
        prop_assert_eq!(&slots[..], &unlimited[..slots.len().min(unlimited.len())]);
        prop_assert_eq!(slots.len(), query.limit.min(unlimited.len()));
    }

    /// Every valid start a brute-force scan of the local grid finds shares its free gap with an offered slot that
    /// starts no later: in particular none comes before a technician's earliest slot.
    #[test]
    fn every_free_gap_is_offered(scenario in scenario()) {
        let query = SlotQuery { limit: usize::MAX, ..scenario.query };
        let slots = find_slots(&query, &scenario.calendars);
        let step_minutes = u32::try_from(query.granularity.num_minutes()).unwrap();
        for calendar in &scenario.calendars {
            let offered: Vec<DateTime<Utc>> =
                slots.iter().filter(|slot| slot.technician == calendar.technician).map(|slot| slot.start).collect();
            for start in grid_instants(calendar.tz, query.within, step_minutes) {
                if check_slot(&query, calendar, start).is_err() {
                    continue;
                }
                let earlier_offers = offered.partition_point(|offer| *offer <= start);
                prop_assert!(earlier_offers > 0, "{} is free for {:?} but nothing is offered by then", start, calendar.technician);
                let offer = offered[earlier_offers - 1];
                let same_gap = check_free(&query, calendar, span(offer, start + query.duration));
                prop_assert!(same_gap.is_ok(), "{} is free but the last offer before it, {}, is in another gap: {:?}", start, offer, same_gap);
            }
        }
    }
}
