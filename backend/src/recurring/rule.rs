//! Recurrence rules (RFC 5545 RRULE) expanded in the plan's own time zone, so a 09:00 visit stays
//! at 09:00 local time across daylight-saving changes.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use domain::FieldError;
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};

/// Most occurrences one expansion yields; a daily plan over a year's horizon fits.
const MAX_OCCURRENCES: u16 = 400;

/// A validated rule with its first occurrence.
#[derive(Debug, Clone)]
pub struct Recurrence(RRuleSet);

impl Recurrence {
    /// Parses `FREQ=WEEKLY;BYDAY=MO…` (an `RRULE:` prefix is allowed) starting at the wall-clock
    /// time `starts_local` in `tz`. Rules more frequent than daily are refused: they are not visits.
    pub fn parse(rule: &str, starts_local: NaiveDateTime, tz: chrono_tz::Tz) -> Result<Self, FieldError> {
        let body = rule.trim().trim_start_matches("RRULE:");
        let parsed: RRule<Unvalidated> =
            body.parse().map_err(|e| FieldError::new("invalid_rrule", format!("not a recurrence rule: {e}")))?;
        if matches!(parsed.get_freq(), Frequency::Hourly | Frequency::Minutely | Frequency::Secondly) {
            return Err(FieldError::new("too_frequent", "a plan recurs at most daily"));
        }
        let zone = rrule::Tz::Tz(tz);
        let start = zone
            .from_local_datetime(&starts_local)
            .earliest()
            .ok_or_else(|| FieldError::new("nonexistent_time", "that local time does not exist (a DST gap)"))?;
        let set = parsed.build(start).map_err(|e| FieldError::new("invalid_rrule", e.to_string()))?;
        Ok(Self(set))
    }

    /// The occurrences from `from` up to `to`, as instants.
    pub fn between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let zone = rrule::Tz::UTC;
        self.0
            .clone()
            .after(from.with_timezone(&zone))
            .before(to.with_timezone(&zone))
            .all(MAX_OCCURRENCES)
            .dates
            .into_iter()
            .map(|at| at.with_timezone(&Utc))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    #[test]
    fn a_weekly_visit_keeps_its_local_time_across_both_dst_changes() {
        let start = "2026-03-16T09:00:00".parse().unwrap();
        let rule = Recurrence::parse("FREQ=WEEKLY;BYDAY=MO", start, chrono_tz::Europe::Berlin).unwrap();
        let spring = rule.between(at("2026-03-15T00:00:00Z"), at("2026-04-07T00:00:00Z"));
        // 09:00 CET is 08:00 UTC; from 29 March 09:00 CEST is 07:00 UTC.
        assert_eq!(
            spring,
            [
                at("2026-03-16T08:00:00Z"),
                at("2026-03-23T08:00:00Z"),
                at("2026-03-30T07:00:00Z"),
                at("2026-04-06T07:00:00Z")
            ]
        );
        let autumn = rule.between(at("2026-10-18T00:00:00Z"), at("2026-11-03T00:00:00Z"));
        assert_eq!(autumn, [at("2026-10-19T07:00:00Z"), at("2026-10-26T08:00:00Z"), at("2026-11-02T08:00:00Z")]);
    }

    #[test]
    fn bad_and_too_frequent_rules_are_refused() {
        let start = "2026-03-16T09:00:00".parse().unwrap();
        let tz = chrono_tz::Europe::Berlin;
        assert_eq!(Recurrence::parse("FREQ=SOMETIMES", start, tz).unwrap_err().code, "invalid_rrule");
        assert_eq!(Recurrence::parse("FREQ=HOURLY", start, tz).unwrap_err().code, "too_frequent");
        assert!(Recurrence::parse("RRULE:FREQ=MONTHLY;BYMONTHDAY=1", start, tz).is_ok());
    }
}
