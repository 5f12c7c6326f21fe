//! Notifications: order events leave through the outbox, the relay moves them into the job queue,
//! and the announce job tells each person the event concerns (`domain::notifications::audience`)
//! on their channels. Today the channel is the in-app inbox.

pub mod relay;
pub mod repo;
pub mod routes;
pub mod service;

pub use service::NotificationError;
