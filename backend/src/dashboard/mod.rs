//! The dashboard: organization-wide order counters for the office (admins, dispatchers, managers).

pub mod repo;
pub mod routes;
pub mod service;

pub use service::DashboardError;
