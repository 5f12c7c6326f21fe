//! What can go wrong with an order, for every caller: routes, the bot, jobs.

use crate::actor::Forbidden;
use chrono::{DateTime, Utc};
use domain::api::scheduling::OfferStatus;
use domain::orders::{OrderStatus, TransitionError};
use domain::{FieldErrors, OrderId};

#[derive(Debug, thiserror::Error)]
pub enum OrderError {
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    #[error("order not found")]
    NotFound,
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("the order changed since version {presented}; it is now at version {current}")]
    StaleVersion { presented: i32, current: i32 },
    #[error(transparent)]
    InvalidTransition(#[from] TransitionError),
    #[error("the technician is already booked from {start} to {end} for order {number}")]
    Conflict { order_id: OrderId, number: String, start: DateTime<Utc>, end: DateTime<Utc> },
    #[error("the technician does not work then: {}", .0.join("; "))]
    Unavailable(Vec<String>),
    #[error("the offer is {0:?}")]
    OfferClosed(OfferStatus),
    #[error("no technician passes every check for this order")]
    NoCandidate,
    #[error("the order is {} and has no work report: one is filed when the order is completed", .0.as_str())]
    NoWorkReport(OrderStatus),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for OrderError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.into())
    }
}
