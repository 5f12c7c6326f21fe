use crate::auth::passwords::PasswordHasher;
use crate::auth::tokens::TokenKeys;
use crate::cache::Cache;
use crate::config::Settings;
use crate::mail::Mailer;
use crate::rate_limit::RateLimiter;
use crate::redis_guard::GuardedRedis;
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
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// Connects to PostgreSQL and prepares the Redis pool (connections open lazily, so a Redis
    /// outage degrades rate limiting and caching instead of stopping the API).
    pub async fn connect(settings: Settings) -> anyhow::Result<Self> {
        let db = crate::db::connect(&settings).await?;
        Self::with_pool(settings, db)
    }

    pub fn with_pool(settings: Settings, db: PgPool) -> anyhow::Result<Self> {
        // The webhook client's TLS needs the process-wide provider.
        crate::install_crypto_provider();
        let redis = crate::redis_guard::redis_pool(&settings)?;
        // One circuit breaker for the limiter and the cache: both learn of an outage at once.
        let guarded = GuardedRedis::new(redis.clone());
        let settings = Arc::new(settings);
        let sessions = crate::auth::sessions::LiveSessions::default();
        Ok(Self {
            tokens: Arc::new(TokenKeys::new(&settings)),
            passwords: PasswordHasher::new(settings.password_hash_concurrency)?,
            mailer: Mailer::from_settings(&settings)?,
            limiter: RateLimiter::new(guarded.clone(), &settings.redis_key_prefix),
            cache: Cache::new(guarded, &settings.redis_key_prefix),
            storage: crate::storage::open(&settings)?,
            telegram: crate::telegram::TelegramSender::new(&settings, redis.clone())?,
            secrets: SecretBox::new(&settings.secrets_key()?),
            webhooks: WebhookClient::new(settings.webhooks_allow_private_networks)?,
            push: crate::push::PushClient::new(&settings)?,
            redis,
            db,
            settings,
            metrics: None,
            events: crate::events::EventHub::new(sessions.clone()),
            sessions,
        })
    }
}
