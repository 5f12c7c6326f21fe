//! Service types: the organization's workflow templates (duration, price, required skills,
//! checklist, photo rules, approval, SLA targets), their CRUD, and their YAML export and import.

pub mod document;
pub mod repo;
pub mod routes;
pub mod service;

pub use service::ServiceTypeError;
