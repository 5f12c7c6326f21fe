use crate::auth::passwords::PasswordHasher;
use crate::auth::tokens::TokenKeys;
use crate::cache::Cache;
use crate::config::Settings;
use crate::mail::Mailer;
use crate::rate_limit::RateLimiter;
use crate::secrets::SecretBox;
use crate::webhooks::client::WebhookClient;
use metrics_exporter_prometheus::PrometheusHandle;
use object_store::ObjectStore;
use sqlx::PgPool;
use std::sync::Arc;

/// What every request, job and command shares. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub redis: deadpool_redis::Pool,
    pub settings: Arc<Settings>,
    pub tokens: Arc<TokenKeys>,
    pub passwords: PasswordHasher,
    pub mailer: Mailer,
    pub limiter: RateLimiter,
    /// Hot reads (technicians, service types, organization settings, dashboard counters).
    pub cache: Cache,
    pub metrics: Option<PrometheusHandle>,
    /// Uploaded files: a local directory or an S3 bucket, as configured.
    pub storage: Arc<dyn ObjectStore>,
    /// Wakes this process's live event streams and keeps `sessions` true (one database listener
    /// per process).
    pub events: crate::events::EventHub,
    /// The live sessions this process has checked, so a request needs no query to check its own.
    pub sessions: crate::auth::sessions::LiveSessions,
    /// Telegram messages, within the flood limits all processes share in Redis.
    pub telegram: crate::telegram::TelegramSender,
    /// Seals the secrets kept in the database.
    pub secrets: SecretBox,
    /// Sends webhook deliveries.
    pub webhooks: WebhookClient,
    /// Sends web push messages, when a VAPID key is configured.
    pub push: crate::push::PushClient,
    /// What follows a technician's decline (auto-dispatch to the next candidates).
    pub after_decline: Arc<dyn crate::orders::follow_up::AfterDecline>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}
