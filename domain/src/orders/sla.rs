//! The SLA rule: when an order with a due time is at risk. The order views, the dashboard and the
//! SLA scanner all follow it.

use chrono::{DateTime, Utc};

/// An open order is at risk once less than this fraction (one fifth) of the time from its creation
/// to its due time is left.
pub const AT_RISK_SHARE: i32 = 5;

/// The moment an open order created at `created_at` and due at `due_at` becomes at risk.
pub fn at_risk_from(created_at: DateTime<Utc>, due_at: DateTime<Utc>) -> DateTime<Utc> {
    due_at - (due_at - created_at) / AT_RISK_SHARE
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn the_last_fifth_of_the_target_is_at_risk() {
        let created = DateTime::parse_from_rfc3339("2026-11-21T08:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(at_risk_from(created, created + Duration::hours(10)), created + Duration::hours(8));
    }
}
