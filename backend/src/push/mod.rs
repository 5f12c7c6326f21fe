//! Web push: order notifications shown by a person's browsers even when Fieldflow is not open.
//! A browser subscribes with our VAPID public key (`GET /push/vapid-public-key`) and hands us its
//! `PushSubscription` (`POST /me/push-subscriptions`); the deliver queue then sends each push
//! delivery to all of the person's browsers through their push services ([`send`]), encrypted to
//! the browser (RFC 8291) and signed with our key (RFC 8292). Without a configured key web push is
//! off: the key route says so and push deliveries are skipped.

pub mod encryption;
pub mod repo;
pub mod routes;
pub mod send;
pub mod service;
pub mod vapid;

pub use repo::Browser;
pub use send::{Message, PushClient, PushOutcome, Urgency, send};
pub use service::PushError;
pub use vapid::VapidKey;
