//! Notifications: order events leave through the outbox, the relay moves them into the announce
//! queue, and the announce job tells each person the event concerns (`domain::notifications::audience`)
//! in the in-app inbox, plans their messages (Telegram, email, web push), the customer's email and the
//! organization's webhooks as deliveries, and sends those due now; the deliver queue sends the
//! later ones and the retries.
//! Messages worded by their sender (broadcasts, summaries) take the same way from `worded`.

pub mod deliver;
pub mod deliveries_repo;
pub mod repo;
pub mod routes;
pub mod service;
pub mod templates;
pub mod unsubscribe;
pub mod unsubscribe_page;
pub mod worded;

pub use service::NotificationError;

/// The histogram of how old an event is when it reaches a stage of the pipeline: `relayed` (in
/// the announce queue), `announced` (its deliveries planned), `sent` (a message left).
pub const STAGE_LATENCY: &str = "notification_event_age_seconds";

pub fn stage_latency(stage: &'static str, recorded_at: chrono::DateTime<chrono::Utc>) {
    let age = (chrono::Utc::now() - recorded_at).to_std().unwrap_or_default();
    metrics::histogram!(STAGE_LATENCY, "stage" => stage).record(age.as_secs_f64());
}
