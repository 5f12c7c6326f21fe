//! The live stream of order events (Server-Sent Events). `order_events` is the source of truth:
//! one PostgreSQL listener per process only wakes subscribers, which then read the new rows by id
//! with their own scope, so every process serves every event whichever process wrote it.

pub mod listener;
pub mod repo;
pub mod routes;
pub mod service;

pub use listener::EventHub;
pub use service::EventStreamError;
