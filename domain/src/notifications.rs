//! Who hears about what happens to an order: the one rule every notification channel follows.

/// Who is told about an order event, besides never its own actor.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Audience {
    /// The technician the order is assigned to after the event.
    pub technician: bool,
    /// The technicians the order was offered to (`offered` events name them).
    pub offered: bool,
    /// The organization's dispatchers and admins.
    pub office: bool,
}

/// The audience of an order event kind (an action's name, or `rescheduled`, `comment`, `offered`…).
/// Kinds nobody needs to hear about (`created`, `updated`, checklist ticks, uploads) have none.
pub fn audience(kind: &str) -> Audience {
    let technician = Audience { technician: true, ..Audience::default() };
    let office = Audience { office: true, ..Audience::default() };
    match kind {
        "assign" | "reassign" | "rescheduled" | "approve" | "reject" | "cancel" => technician,
        "accept" | "decline" | "depart" | "start" | "hold" | "resume" | "complete" | "offer_declined"
        | "offers_expired" => office,
        "comment" => Audience { technician: true, office: true, offered: false },
        "offered" => Audience { offered: true, ..Audience::default() },
        _ => Audience::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::OrderAction;

    #[test]
    fn the_technician_hears_of_their_assignment_and_the_office_of_their_progress() {
        assert_eq!(audience(OrderAction::Assign.as_str()), Audience { technician: true, ..Audience::default() });
        assert_eq!(audience(OrderAction::Depart.as_str()), Audience { office: true, ..Audience::default() });
        assert!(audience("offered").offered && !audience("offered").technician);
        assert_eq!(audience("created"), Audience::default());
    }

    #[test]
    fn every_lifecycle_action_has_an_audience() {
        for action in OrderAction::ALL {
            assert_ne!(audience(action.as_str()), Audience::default(), "{action:?}");
        }
    }
}
