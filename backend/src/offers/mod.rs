//! Job offers: an order sent to several technicians at once; the first to accept gets it, the
//! others' offers are withdrawn, and when nobody answers in time the dispatcher is alerted.

pub mod repo;
pub mod routes;
pub mod service;
