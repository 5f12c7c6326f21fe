//! Who hears about what happens to an order, on which channels, and when a failed message is tried
//! again: the rules every notification channel follows.

use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// Who is told about an order event, besides never its own actor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Audience {
    /// The technician the order is assigned to after the event.
    pub technician: bool,
    /// The technicians the order was offered to (`offered` events name them).
    pub offered: bool,
    /// The organization's dispatchers and admins.
    pub office: bool,
    /// The order's customer, by email when they have an address.
    pub customer: bool,
}

/// Every event kind anyone is told about, in the order settings screens list them.
pub const NOTIFIED_KINDS: [&str; 17] = [
    "assign",
    "reassign",
    "offered",
    "accept",
    "decline",
    "offer_declined",
    "offers_expired",
    "depart",
    "start",
    "hold",
    "resume",
    "complete",
    "approve",
    "reject",
    "cancel",
    "rescheduled",
    "comment",
];

/// Messages not about one order event, worded by whoever sends them (a dispatcher's broadcast, the
/// daily summary); people choose their channels for these too.
pub const WORDED_KINDS: [&str; 2] = ["broadcast", "daily_summary"];

/// Every kind a person can turn on or off per channel: order events, then worded messages.
pub fn preference_kinds() -> impl Iterator<Item = &'static str> {
    NOTIFIED_KINDS.into_iter().chain(WORDED_KINDS)
}

/// The audience of an order event kind (an action's name, or `rescheduled`, `comment`, `offered`…).
/// Kinds nobody needs to hear about (`created`, `updated`, checklist ticks, uploads) have none.
pub fn audience(kind: &str) -> Audience {
    let technician = Audience { technician: true, ..Audience::default() };
    let office = Audience { office: true, ..Audience::default() };
    match kind {
        "assign" | "rescheduled" | "cancel" => Audience { customer: true, ..technician },
        "reassign" | "approve" | "reject" => technician,
        "depart" | "complete" => Audience { customer: true, ..office },
        "accept" | "decline" | "start" | "hold" | "resume" | "offer_declined" | "offers_expired" => office,
        "comment" => Audience { technician: true, office: true, ..Audience::default() },
        "offered" => Audience { offered: true, ..Audience::default() },
        _ => Audience::default(),
    }
}

/// Where a message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    InApp,
    Telegram,
    Email,
    /// An organization's endpoint, not a person: no preferences apply.
    Webhook,
}

impl Channel {
    /// The channels a person chooses for themselves.
    pub const PERSONAL: [Channel; 3] = [Channel::InApp, Channel::Telegram, Channel::Email];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::InApp => "in_app",
            Channel::Telegram => "telegram",
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(raw: &str) -> Option<Channel> {
        [Channel::InApp, Channel::Telegram, Channel::Email, Channel::Webhook].into_iter().find(|c| c.as_str() == raw)
    }

    /// Whether a person who chose nothing hears on this channel. Email is opt-in for staff, who
    /// have the inbox and Telegram; customers have only email and get it until they unsubscribe.
    pub fn on_by_default(self) -> bool {
        !matches!(self, Channel::Email)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Attempts of one delivery before it goes to the dead letters.
pub const MAX_DELIVERY_ATTEMPTS: i32 = 8;
const FIRST_RETRY: Duration = Duration::from_secs(5);
const LONGEST_RETRY: Duration = Duration::from_secs(3600);

/// How long to wait after the `failed_attempts`-th failure: doubling from 5 s, capped at an hour,
/// then scaled into its upper half by `jitter` (0 ≤ jitter < 1) so failures that happened together
/// are not retried together.
pub fn retry_delay(failed_attempts: u32, jitter: f64) -> Duration {
    let doublings = failed_attempts.saturating_sub(1).min(20);
    let delay = FIRST_RETRY.saturating_mul(1 << doublings).min(LONGEST_RETRY);
    delay.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
}

/// When the quiet hours `start..end` (wall-clock times in `zone`, possibly across midnight) that
/// hold at `now` end; `None` when it is not quiet.
pub fn quiet_until(now: DateTime<Utc>, zone: Tz, start: NaiveTime, end: NaiveTime) -> Option<DateTime<Utc>> {
    let local = now.with_timezone(&zone);
    let time = local.time();
    let today = local.date_naive();
    let end_day = if start < end {
        (start <= time && time < end).then_some(today)?
    } else if start > end {
        if time >= start {
            today.checked_add_days(Days::new(1))?
        } else if time < end {
            today
        } else {
            return None;
        }
    } else {
        return None;
    };
    let wall = end_day.and_time(end);
    // An end inside a DST gap is taken an hour later, when that wall-clock time exists again.
    let instant = zone
        .from_local_datetime(&wall)
        .earliest()
        .or_else(|| zone.from_local_datetime(&(wall + chrono::Duration::hours(1))).earliest())?;
    Some(instant.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::OrderAction;

    #[test]
    fn the_technician_hears_of_their_assignment_and_the_office_of_their_progress() {
        assert!(audience(OrderAction::Assign.as_str()).technician);
        assert!(!audience(OrderAction::Assign.as_str()).office);
        assert_eq!(audience(OrderAction::Start.as_str()), Audience { office: true, ..Audience::default() });
        assert!(audience("offered").offered && !audience("offered").technician);
        assert!(audience("depart").customer && !audience("start").customer);
        assert_eq!(audience("created"), Audience::default());
    }

    #[test]
    fn the_notified_kinds_are_exactly_those_with_an_audience() {
        for action in OrderAction::ALL {
            assert!(NOTIFIED_KINDS.contains(&action.as_str()), "{action:?}");
        }
        for kind in NOTIFIED_KINDS {
            assert_ne!(audience(kind), Audience::default(), "{kind}");
        }
    }

    #[test]
    fn retries_double_up_to_an_hour_and_stay_in_the_upper_half() {
        assert_eq!(retry_delay(1, 1.0), Duration::from_secs(5));
        assert_eq!(retry_delay(1, 0.0), Duration::from_millis(2500));
        assert_eq!(retry_delay(3, 1.0), Duration::from_secs(20));
        assert_eq!(retry_delay(30, 1.0), Duration::from_secs(3600));
        assert_eq!(retry_delay(30, 0.0), Duration::from_secs(1800));
        for attempt in 1..40 {
            assert!(retry_delay(attempt, 0.5) <= retry_delay(attempt + 1, 0.5));
        }
    }

    fn at(raw: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc)
    }

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn overnight_quiet_hours_end_the_next_local_morning() {
        let berlin = chrono_tz::Europe::Berlin;
        // 23:30 in Berlin (UTC+1 in November): quiet until 07:00 the next day.
        assert_eq!(
            quiet_until(at("2026-11-21T22:30:00Z"), berlin, hm(22, 0), hm(7, 0)),
            Some(at("2026-11-22T06:00:00Z"))
        );
        // 06:00 local: still quiet, until 07:00 the same day.
        assert_eq!(
            quiet_until(at("2026-11-22T05:00:00Z"), berlin, hm(22, 0), hm(7, 0)),
            Some(at("2026-11-22T06:00:00Z"))
        );
        assert_eq!(quiet_until(at("2026-11-22T11:00:00Z"), berlin, hm(22, 0), hm(7, 0)), None);
        assert_eq!(quiet_until(at("2026-11-22T11:00:00Z"), berlin, hm(12, 0), hm(12, 0)), None);
    }

    #[test]
    fn daytime_quiet_hours_and_an_end_in_a_dst_gap() {
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            quiet_until(at("2026-11-22T12:30:00Z"), berlin, hm(13, 0), hm(14, 0)),
            Some(at("2026-11-22T13:00:00Z"))
        );
        assert_eq!(quiet_until(at("2026-11-22T11:30:00Z"), berlin, hm(13, 0), hm(14, 0)), None);
        // 2026-03-29 02:30 does not exist in Berlin: the quiet hours end at 03:30 CEST.
        assert_eq!(
            quiet_until(at("2026-03-28T23:00:00Z"), berlin, hm(0, 0), hm(2, 30)),
            Some(at("2026-03-29T01:30:00Z"))
        );
    }
}
