//! Organizations (tenants) and their settings.

pub mod repo;
pub mod routes;
pub mod service;

pub use service::OrgError;
