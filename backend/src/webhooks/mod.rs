//! Outgoing webhooks: endpoints an organization's admins register, signed deliveries of its order
//! events to them (`docs/WEBHOOKS.md`), and a test ping. Retries, backoff and the delivery log
//! belong to the delivery queue, which calls [`deliver_event`] once per attempt.

pub mod client;
pub mod delivery;
pub mod repo;
pub mod routes;
pub mod service;
pub mod signing;

pub use delivery::{WebhookError, deliver_event, endpoints_for};
pub use service::EndpointError;
