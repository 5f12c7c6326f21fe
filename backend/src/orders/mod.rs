//! Work orders: creation with a human number, field edits with optimistic concurrency, the
//! lifecycle actions of `domain::orders`, and the immutable history every change leaves.

pub mod access;
pub mod booking;
pub mod error;
pub mod follow_up;
pub mod repo;
pub mod routes;
pub mod service;
pub mod sla;
pub mod sla_repo;
pub mod work;
pub mod work_repo;

pub use error::OrderError;
