use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A stretch of real time, `[start, end)`, never empty.
///
/// The fields are public for reading and pattern matching; build values with [`Interval::new`] so that
/// `start < end` holds. Deserializing checks it as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UncheckedInterval")]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Interval {
    /// `None` unless `start < end`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (start < end).then_some(Self { start, end })
    }

    /// Whether the two share any instant; touching ends do not overlap.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, other: &Interval) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    /// The common part, if any.
    pub fn intersection(&self, other: &Interval) -> Option<Interval> {
        Interval::new(self.start.max(other.start), self.end.min(other.end))
    }
}

/// The wire shape before the `start < end` check.
#[derive(Deserialize)]
struct UncheckedInterval {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl TryFrom<UncheckedInterval> for Interval {
    type Error = &'static str;

    fn try_from(raw: UncheckedInterval) -> Result<Self, Self::Error> {
        Interval::new(raw.start, raw.end).ok_or("an interval must end after it starts")
    }
}

/// The parts of `free` not covered by any of `busy`, sorted and merged. Inputs may be unsorted and overlap.
pub fn subtract(free: Vec<Interval>, busy: &[Interval]) -> Vec<Interval> {
    carve(&merged(free), &merged(busy.to_vec()))
}

/// Sorts and merges overlapping or touching intervals.
pub(super) fn merged(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort_unstable_by_key(|interval| interval.start);
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for interval in intervals {
        match merged.last_mut() {
            Some(last) if interval.start <= last.end => last.end = last.end.max(interval.end),
            _ => merged.push(interval),
        }
    }
    merged
}

/// The parts of each of `free` (sorted by start) outside `busy` (sorted and merged), in one sweep.
/// Unlike [`subtract`], free intervals are kept apart even when they touch, so every part stays inside
/// the free interval it came from.
pub(super) fn carve(free: &[Interval], busy: &[Interval]) -> Vec<Interval> {
    let mut parts = Vec::with_capacity(free.len());
    let mut first_relevant = 0;
    for interval in free {
        while busy.get(first_relevant).is_some_and(|blocked| blocked.end <= interval.start) {
            first_relevant += 1;
        }
        let mut cursor = interval.start;
        for blocked in busy[first_relevant..].iter().take_while(|blocked| blocked.start < interval.end) {
            if cursor < blocked.start {
                parts.push(Interval { start: cursor, end: blocked.start });
            }
            cursor = cursor.max(blocked.end);
        }
        if cursor < interval.end {
            parts.push(Interval { start: cursor, end: interval.end });
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    /// Minutes after an arbitrary epoch, to keep the cases readable.
    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minute)
    }

    fn span(start: i64, end: i64) -> Interval {
        Interval::new(at(start), at(end)).unwrap()
    }

    #[test]
    fn an_interval_is_never_empty_even_from_json() {
        assert_eq!(Interval::new(at(5), at(5)), None);
        assert_eq!(Interval::new(at(6), at(5)), None);
        assert_eq!(span(0, 90).duration(), Duration::minutes(90));
        let json = serde_json::to_string(&span(0, 90)).unwrap();
        assert_eq!(serde_json::from_str::<Interval>(&json).unwrap(), span(0, 90));
        let backwards = r#"{"start":"2026-01-01T10:00:00Z","end":"2026-01-01T09:00:00Z"}"#;
        assert!(serde_json::from_str::<Interval>(backwards).is_err());
    }

    #[test]
    fn overlap_is_half_open_and_containment_inclusive() {
        assert!(span(0, 10).overlaps(&span(9, 20)));
        assert!(!span(0, 10).overlaps(&span(10, 20)));
        assert!(span(0, 10).contains(&span(0, 10)));
        assert!(span(0, 10).contains(&span(2, 8)));
        assert!(!span(0, 10).contains(&span(5, 11)));
        assert_eq!(span(0, 10).intersection(&span(5, 20)), Some(span(5, 10)));
        assert_eq!(span(0, 10).intersection(&span(10, 20)), None);
    }

    #[test]
    fn subtract_sorts_merges_and_cuts() {
        let free = vec![span(60, 120), span(0, 30), span(20, 50), span(50, 55)];
        let busy = [span(100, 200), span(10, 15), span(12, 25)];
        assert_eq!(subtract(free, &busy), [span(0, 10), span(25, 55), span(60, 100)]);
        assert_eq!(subtract(vec![span(0, 10)], &[span(-5, 20)]), []);
    }

    #[test]
    fn carving_keeps_touching_free_intervals_apart() {
        let free = [span(0, 60), span(60, 120)];
        assert_eq!(carve(&free, &[span(50, 70)]), [span(0, 50), span(70, 120)]);
        assert_eq!(carve(&free, &[]), free);
    }

    fn spans() -> impl Strategy<Value = Vec<Interval>> {
        prop::collection::vec((0i64..200, 1i64..40).prop_map(|(start, length)| span(start, start + length)), 0..8)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        /// Minute by minute, the result covers exactly the free minutes that no busy interval touches.
        #[test]
        fn subtract_matches_a_minute_by_minute_scan(free in spans(), busy in spans()) {
            let covered = |intervals: &[Interval], minute: i64| intervals.iter().any(|i| i.contains(&span(minute, minute + 1)));
            let result = subtract(free.clone(), &busy);
            for minute in 0..240 {
                prop_assert_eq!(covered(&result, minute), covered(&free, minute) && !covered(&busy, minute));
            }
            for pair in result.windows(2) {
                prop_assert!(pair[0].end < pair[1].start, "sorted and merged: {:?}", pair);
            }
        }
    }
}
