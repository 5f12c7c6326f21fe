use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where an order is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "order_status", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    New,
    Assigned,
    Accepted,
    EnRoute,
    InProgress,
    OnHold,
    Completed,
    Closed,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 9] = [
        OrderStatus::New,
        OrderStatus::Assigned,
        OrderStatus::Accepted,
        OrderStatus::EnRoute,
        OrderStatus::InProgress,
        OrderStatus::OnHold,
        OrderStatus::Completed,
        OrderStatus::Closed,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "new",
            OrderStatus::Assigned => "assigned",
            OrderStatus::Accepted => "accepted",
            OrderStatus::EnRoute => "en_route",
            OrderStatus::InProgress => "in_progress",
            OrderStatus::OnHold => "on_hold",
            OrderStatus::Completed => "completed",
            OrderStatus::Closed => "closed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    /// Closed and cancelled orders are final: no action applies to them any more.
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Closed | OrderStatus::Cancelled)
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something someone does to an order (`POST /orders/{id}/actions/{action}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(type_name = "order_action", rename_all = "snake_case"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrderAction {
    Assign,
    Accept,
    Decline,
    Depart,
    Start,
    Hold,
    Resume,
    Complete,
    Approve,
    Reject,
    Cancel,
    Reassign,
}

impl OrderAction {
    /// In lifecycle order; `allowed_actions` lists actions in this order.
    pub const ALL: [OrderAction; 12] = [
        OrderAction::Assign,
        OrderAction::Accept,
        OrderAction::Decline,
        OrderAction::Depart,
        OrderAction::Start,
        OrderAction::Hold,
        OrderAction::Resume,
        OrderAction::Complete,
        OrderAction::Approve,
        OrderAction::Reject,
        OrderAction::Cancel,
        OrderAction::Reassign,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderAction::Assign => "assign",
            OrderAction::Accept => "accept",
            OrderAction::Decline => "decline",
            OrderAction::Depart => "depart",
            OrderAction::Start => "start",
            OrderAction::Hold => "hold",
            OrderAction::Resume => "resume",
            OrderAction::Complete => "complete",
            OrderAction::Approve => "approve",
            OrderAction::Reject => "reject",
            OrderAction::Cancel => "cancel",
            OrderAction::Reassign => "reassign",
        }
    }

    /// Whether the action must say why (a reason, or for a rejection the rework comment).
    pub fn requires_reason(self) -> bool {
        matches!(self, OrderAction::Decline | OrderAction::Hold | OrderAction::Cancel | OrderAction::Reject)
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        Self::ALL.into_iter().find(|action| action.as_str() == raw).ok_or_else(|| {
            let names: Vec<&str> = Self::ALL.iter().map(|action| action.as_str()).collect();
            FieldError::new("invalid_order_action", format!("must be one of {}", names.join(", ")))
        })
    }
}

impl fmt::Display for OrderAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrderAction {
    type Err = FieldError;
    fn from_str(raw: &str) -> Result<Self, FieldError> {
        Self::parse(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_serde_and_parse_back() {
        for status in OrderStatus::ALL {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
        for action in OrderAction::ALL {
            assert_eq!(serde_json::to_value(action).unwrap(), action.as_str());
            assert_eq!(action.as_str().parse::<OrderAction>().unwrap(), action);
        }
        let error = "Approve".parse::<OrderAction>().unwrap_err();
        assert_eq!(error.code, "invalid_order_action");
        assert!(error.message.contains("assign, accept, decline"), "{}", error.message);
    }
}
