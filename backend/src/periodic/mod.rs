//! Periodic jobs on the job queue: offer expiry, recurring orders, the SLA scan, daily summaries
//! and clean-up. Each task's time is cut into slots of its cadence; the scheduler of every process
//! claims the current slot of each task in PostgreSQL (`periodic_runs`), so a slot is queued once
//! with no leader, and a run not finished within the job lease is queued again. Every task is
//! idempotent: a slot run twice changes nothing the second time.

pub mod cleanup;
pub mod repo;
pub mod summary;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A periodic task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Expires unanswered offers and alerts the dispatchers of orders nobody took.
    OfferExpiry,
    /// Creates the orders of recurring plans up to each organization's horizon.
    RecurringGeneration,
    /// Raises `sla_at_risk` and `sla_breached` order events.
    SlaScan,
    /// Sends each organization's daily summary at its hour.
    DailySummary,
    /// Deletes expired sessions and tokens, old runs and deliveries, and unreferenced files.
    CleanUp,
}

impl Task {
    pub const ALL: [Task; 5] =
        [Task::OfferExpiry, Task::RecurringGeneration, Task::SlaScan, Task::DailySummary, Task::CleanUp];

    pub fn as_str(self) -> &'static str {
        match self {
            Task::OfferExpiry => "offer_expiry",
            Task::RecurringGeneration => "recurring_generation",
            Task::SlaScan => "sla_scan",
            Task::DailySummary => "daily_summary",
            Task::CleanUp => "clean_up",
        }
    }

    pub fn parse(raw: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|task| task.as_str() == raw)
    }

    /// How often the task runs. The daily summary looks every minute whether it is some
    /// organization's hour.
    pub fn cadence(self) -> Duration {
        Duration::from_secs(match self {
            Task::OfferExpiry => 30,
            Task::RecurringGeneration => 600,
            Task::SlaScan | Task::DailySummary => 60,
            Task::CleanUp => 3600,
        })
    }

    /// The start of the slot `now` falls in: a multiple of the cadence since the epoch.
    pub fn slot(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let cadence = i64::try_from(self.cadence().as_secs()).unwrap_or(i64::MAX).max(1);
        let start = now.timestamp().div_euclid(cadence) * cadence;
        DateTime::from_timestamp(start, 0).unwrap_or(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_aligned_to_the_cadence() {
        let now = DateTime::parse_from_rfc3339("2026-11-21T10:17:45.5Z").unwrap().with_timezone(&Utc);
        let at = |raw: &str| DateTime::parse_from_rfc3339(raw).unwrap().with_timezone(&Utc);
        assert_eq!(Task::OfferExpiry.slot(now), at("2026-11-21T10:17:30Z"));
        assert_eq!(Task::SlaScan.slot(now), at("2026-11-21T10:17:00Z"));
        assert_eq!(Task::RecurringGeneration.slot(now), at("2026-11-21T10:10:00Z"));
        assert_eq!(Task::CleanUp.slot(now), at("2026-11-21T10:00:00Z"));
        for task in Task::ALL {
            assert_eq!(Task::parse(task.as_str()), Some(task));
        }
    }
}
