//! The kinds an order event (`order_events.kind`) can have: a lifecycle action's name, or one of
//! the other changes to an order. Webhook subscriptions name these.

use super::OrderAction;

/// The kinds that are not lifecycle actions.
pub const OTHER_EVENT_KINDS: [&str; 11] = [
    "created",
    "updated",
    "rescheduled",
    "checklist",
    "attachment",
    "comment",
    "offered",
    "offer_declined",
    "offers_expired",
    "sla_at_risk",
    "sla_breached",
];

/// Every order event kind: the actions in lifecycle order, then the others.
pub fn event_kinds() -> impl Iterator<Item = &'static str> {
    OrderAction::ALL.into_iter().map(OrderAction::as_str).chain(OTHER_EVENT_KINDS)
}

pub fn is_event_kind(kind: &str) -> bool {
    event_kinds().any(|known| known == kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifications::audience;
    use std::collections::HashSet;

    #[test]
    fn kinds_are_distinct_and_include_every_announced_one() {
        let kinds: HashSet<&str> = event_kinds().collect();
        assert_eq!(kinds.len(), OrderAction::ALL.len() + OTHER_EVENT_KINDS.len());
        for kind in
            ["rescheduled", "comment", "offered", "offer_declined", "offers_expired", "sla_at_risk", "sla_breached"]
        {
            assert_ne!(audience(kind), Default::default(), "{kind}");
            assert!(is_event_kind(kind), "{kind}");
        }
        assert!(!is_event_kind("ping"));
        assert!(!is_event_kind("Assign"));
    }
}
