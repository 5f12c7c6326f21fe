//! Customers (people and companies the organization works for) and their sites, with search by
//! name, phone and address.

pub mod repo;
pub mod routes;
pub mod service;

pub use service::CustomerError;
