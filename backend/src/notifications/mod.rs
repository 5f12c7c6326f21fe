//! Notifications: order events leave through the outbox, the relay moves them into the announce
//! queue, and the announce job tells each person the event concerns (`domain::notifications::audience`)
//! in the in-app inbox and plans their messages (Telegram, email), the customer's email and the
//! organization's webhooks as deliveries, which the deliver queue sends with retries.
//! Messages worded by their sender (broadcasts, summaries) take the same way from `worded`.

pub mod deliver;
pub mod deliveries;
pub mod queues;
pub mod relay;
pub mod repo;
pub mod routes;
pub mod service;
pub mod templates;
pub mod unsubscribe;
pub mod worded;

pub use service::NotificationError;
