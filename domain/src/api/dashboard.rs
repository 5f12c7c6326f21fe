use crate::orders::OrderStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `GET /dashboard/counters`: the organization's orders at a glance. Counted at most 10 s ago.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DashboardCounters {
    /// Every status in lifecycle order, zero counts included.
    pub by_status: Vec<StatusCount>,
    /// Orders scheduled to start today in the organization's time zone, cancelled ones excepted.
    pub scheduled_today: u64,
    /// Open orders (not completed, closed or cancelled) without a technician.
    pub unassigned: u64,
    /// Open orders past their SLA due time: what `GET /orders?overdue=true` lists.
    pub overdue: u64,
    pub counted_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusCount {
    pub status: OrderStatus,
    pub count: u64,
}
