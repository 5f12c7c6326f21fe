//! One typed settings struct: defaults, then an optional TOML file, then `FIELDFLOW_*` variables.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The development JWT secret; refused when `FIELDFLOW_ENVIRONMENT=production`.
const DEV_JWT_SECRET: &str = "fieldflow-development-secret-change-me-in-production";
/// The development key of secrets kept at rest (base64 of 32 bytes); refused in production.
const DEV_SECRETS_KEY: &str = "ZmllbGRmbG93LWRldmVsb3BtZW50LXNlY3JldHNrZXk=";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Where uploaded files are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// A directory on this machine (`storage_dir`).
    Local,
    /// An S3 bucket, on AWS or an S3-compatible service (`s3_*`).
    S3,
}

/// Fixed-window limits for the authentication routes; see the README's settings table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthRateLimits {
    /// Login attempts per client IP per minute.
    pub login_per_ip_per_minute: u32,
    /// Failed logins per account per 15 minutes.
    pub login_failures_per_account: u32,
    /// Password forgot/reset requests per client IP per hour.
    pub password_per_ip_per_hour: u32,
    /// Password forgot requests per account per hour.
    pub password_per_account_per_hour: u32,
}

/// Fixed-window limits for every route under `/api/v1`; see the README's settings table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRateLimits {
    /// Requests per signed-in user per minute (an API key will count as its own principal).
    pub per_user_per_minute: u32,
    /// Requests per client IP per minute, signed in or not.
    pub per_ip_per_minute: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub environment: Environment,
    #[serde(serialize_with = "expose")]
    pub database_url: SecretString,
    pub database_max_connections: u32,
    #[serde(serialize_with = "expose")]
    pub redis_url: SecretString,
    /// Prefixes every Redis key, so several deployments (or test runs) can share one Redis.
    pub redis_key_prefix: String,
    pub listen: SocketAddr,
    /// Where people reach the web app; links in emails point here.
    pub public_url: String,
    #[serde(serialize_with = "expose")]
    pub jwt_secret: SecretString,
    /// Seals secrets kept in the database (webhook signing secrets): base64 of 32 random bytes
    /// (`openssl rand -base64 32`). Changing it makes the stored secrets unreadable.
    #[serde(serialize_with = "expose")]
    pub secrets_key: SecretString,
    /// `smtp://host:port`, `smtps://user:pass@host`; empty writes emails to the log instead.
    #[serde(serialize_with = "expose")]
    pub smtp_url: SecretString,
    pub mail_from: String,
    pub log_format: LogFormat,
    /// A `tracing` filter such as `info,fieldflow=debug`; INFO by default, so that periodic
    /// chatter stays out of the way unless asked for.
    pub log_filter: String,
    /// The built frontend, served at `/`.
    pub static_dir: PathBuf,
    /// Take the client IP from `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_proxy_headers: bool,
    /// How many argon2 hashes run at once; each takes 19 MiB and one core for tens of milliseconds.
    pub password_hash_concurrency: usize,
    /// Largest JSON body accepted, in bytes.
    pub max_json_body_bytes: usize,
    /// Largest file accepted by an upload, in bytes.
    pub max_upload_bytes: u64,
    pub storage_backend: StorageBackend,
    /// Where uploaded files are kept with the local backend.
    pub storage_dir: PathBuf,
    /// The bucket of the S3 backend; required with it.
    pub s3_bucket: String,
    pub s3_region: String,
    /// An S3-compatible service (`https://…`, or `http://…` for a local one); empty is AWS itself.
    pub s3_endpoint: String,
    #[serde(serialize_with = "expose")]
    pub s3_access_key_id: SecretString,
    #[serde(serialize_with = "expose")]
    pub s3_secret_access_key: SecretString,
    /// `https://bucket.host/key` instead of `https://host/bucket/key`; with an endpoint, the
    /// endpoint must then name the bucket itself.
    pub s3_virtual_hosted_style: bool,
    pub rate_limits: AuthRateLimits,
    /// The Telegram bot's token from @BotFather; empty writes Telegram messages to the log instead.
    #[serde(serialize_with = "expose")]
    pub telegram_bot_token: SecretString,
    /// The Bot API server (a local `telegram-bot-api`, or a fake one in tests).
    pub telegram_api_url: String,
    /// The least time between two messages to one chat, in milliseconds.
    pub telegram_chat_interval_ms: u64,
    /// Messages per second across the whole bot, over all processes.
    pub telegram_global_per_second: u32,
    /// The longest 429 wait a sender sleeps through; a longer one goes back to the job queue.
    pub telegram_max_retry_after_secs: u64,
    /// Let webhooks reach loopback, private and link-local addresses (a local receiver in tests or
    /// development). Off, a webhook whose host resolves to one of them is refused.
    pub webhooks_allow_private_networks: bool,
    /// The VAPID private key of web push (RFC 8292): base64url of a 32-byte P-256 scalar, as
    /// `fieldflow vapid-keygen` prints it. Empty turns web push off. Changing it orphans every
    /// browser subscribed with the old key's public half.
    #[serde(serialize_with = "expose")]
    pub vapid_private_key: SecretString,
    /// Who push services may contact about our messages: `mailto:…` or `https://…`.
    pub vapid_subject: String,
    /// Let web push endpoints be plain `http` and reach loopback, private and link-local addresses
    /// (a local push service in tests or development). Off, such endpoints are refused.
    pub push_allow_private_networks: bool,
    pub api_rate_limits: ApiRateLimits,
    /// Seconds a job may take before its work is handed over again: an outbox row relayed this long
    /// ago and not announced, a delivery claimed this long ago, or one overdue by this much (Redis
    /// lost its job, or its worker died); also the lease of a long operation, renewed per chunk.
    pub job_lease_secs: u64,
    /// Items a long operation works through per chunk (orders exported, customer rows imported,
    /// technicians told); each chunk commits with its checkpoint, so this is also what a crash redoes.
    pub operation_chunk_rows: u32,
    /// `GET /orders?with_total=true` counts the matching orders exactly up to this many; past it the
    /// total says "more than this", so a broad filter never counts a whole large table.
    pub order_total_cap: u32,
}

fn expose<S: serde::Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            environment: Environment::Development,
            database_url: "postgres://postgres@127.0.0.1:5432/fieldflow".into(),
            database_max_connections: 20,
            redis_url: "redis://127.0.0.1:6379".into(),
            redis_key_prefix: "fieldflow:".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            jwt_secret: DEV_JWT_SECRET.into(),
            secrets_key: DEV_SECRETS_KEY.into(),
            smtp_url: "".into(),
            mail_from: "Fieldflow <no-reply@fieldflow.localhost>".into(),
            log_format: LogFormat::Pretty,
            log_filter: "info,sqlx=warn".into(),
            static_dir: "frontend/dist".into(),
            trust_proxy_headers: false,
            password_hash_concurrency: std::thread::available_parallelism().map_or(2, usize::from),
            max_json_body_bytes: 256 * 1024,
            max_upload_bytes: 20 * 1024 * 1024,
            storage_backend: StorageBackend::Local,
            storage_dir: PathBuf::from("data/uploads"),
            s3_bucket: String::new(),
            s3_region: "us-east-1".into(),
            s3_endpoint: String::new(),
            s3_access_key_id: "".into(),
            s3_secret_access_key: "".into(),
            s3_virtual_hosted_style: false,
            rate_limits: AuthRateLimits {
                login_per_ip_per_minute: 30,
                login_failures_per_account: 10,
                password_per_ip_per_hour: 20,
                password_per_account_per_hour: 5,
            },
            telegram_bot_token: "".into(),
            telegram_api_url: "https://api.telegram.org".into(),
            telegram_chat_interval_ms: 1000,
            telegram_global_per_second: 30,
            telegram_max_retry_after_secs: 30,
            webhooks_allow_private_networks: false,
            vapid_private_key: "".into(),
            vapid_subject: "mailto:no-reply@fieldflow.localhost".into(),
            push_allow_private_networks: false,
            api_rate_limits: ApiRateLimits { per_user_per_minute: 600, per_ip_per_minute: 1200 },
            job_lease_secs: 60,
            operation_chunk_rows: 200,
            order_total_cap: 10_000,
        }
    }
}

/// A setting that could not be used; the message names the variable to fix.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl Settings {
    pub fn job_lease(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.job_lease_secs)
    }

    /// Loads settings from defaults, `file` (if given, or `fieldflow.toml` if present) and the
    /// environment. `DATABASE_URL` is honoured when `FIELDFLOW_DATABASE_URL` is not set.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let default_file = Path::new("fieldflow.toml");
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) if !path.exists() => {
                return Err(ConfigError(format!(
                    "config file {} does not exist (FIELDFLOW_CONFIG / --config)",
                    path.display()
                )));
            }
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None if default_file.exists() => figment = figment.merge(Toml::file_exact(default_file)),
            None => {}
        }
        let settings: Settings = figment
            .merge(Env::raw().only(&["DATABASE_URL"]))
            // `__` nests: FIELDFLOW_RATE_LIMITS__LOGIN_PER_IP_PER_MINUTE.
            .merge(Env::prefixed("FIELDFLOW_").ignore(&["CONFIG", "NEW_PASSWORD"]).split("__"))
            .extract()
            .map_err(|e| ConfigError(describe(e)))?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> Result<(), ConfigError> {
        let secret = self.jwt_secret.expose_secret();
        if secret.len() < 32 {
            return Err(ConfigError("FIELDFLOW_JWT_SECRET must be at least 32 bytes long".into()));
        }
        if self.environment == Environment::Production && secret == DEV_JWT_SECRET {
            return Err(ConfigError(
                "FIELDFLOW_JWT_SECRET must be set to a random value in production (FIELDFLOW_ENVIRONMENT=production)"
                    .into(),
            ));
        }
        self.secrets_key()?;
        if self.environment == Environment::Production && self.secrets_key.expose_secret() == DEV_SECRETS_KEY {
            return Err(ConfigError(
                "FIELDFLOW_SECRETS_KEY must be set to a random value in production (openssl rand -base64 32)".into(),
            ));
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(ConfigError(format!("FIELDFLOW_PUBLIC_URL must be an http(s) URL, got {:?}", self.public_url)));
        }
        if !self.database_url.expose_secret().starts_with("postgres") {
            return Err(ConfigError("FIELDFLOW_DATABASE_URL (or DATABASE_URL) must be a postgres:// URL".into()));
        }
        if !self.redis_url.expose_secret().starts_with("redis") {
            return Err(ConfigError("FIELDFLOW_REDIS_URL must be a redis:// or rediss:// URL".into()));
        }
        let smtp = self.smtp_url.expose_secret();
        if !(smtp.is_empty() || smtp.starts_with("smtp://") || smtp.starts_with("smtps://")) {
            return Err(ConfigError("FIELDFLOW_SMTP_URL must be empty, smtp://… or smtps://…".into()));
        }
        if self.job_lease_secs == 0 {
            return Err(ConfigError("FIELDFLOW_JOB_LEASE_SECS must be at least 1".into()));
        }
        if !(1..=200).contains(&self.operation_chunk_rows) {
            return Err(ConfigError("FIELDFLOW_OPERATION_CHUNK_ROWS must be 1 to 200".into()));
        }
        if self.order_total_cap == 0 {
            return Err(ConfigError("FIELDFLOW_ORDER_TOTAL_CAP must be at least 1".into()));
        }
        if self.password_hash_concurrency == 0 || self.database_max_connections == 0 {
            return Err(ConfigError(
                "FIELDFLOW_PASSWORD_HASH_CONCURRENCY and FIELDFLOW_DATABASE_MAX_CONNECTIONS must be at least 1".into(),
            ));
        }
        if self.api_rate_limits.per_user_per_minute == 0 || self.api_rate_limits.per_ip_per_minute == 0 {
            return Err(ConfigError(
                "FIELDFLOW_API_RATE_LIMITS__PER_USER_PER_MINUTE and FIELDFLOW_API_RATE_LIMITS__PER_IP_PER_MINUTE must be at least 1"
                    .into(),
            ));
        }
        if self.storage_backend == StorageBackend::S3 {
            self.check_s3()?;
        }
        self.check_telegram()?;
        self.check_push()
    }

    fn check_push(&self) -> Result<(), ConfigError> {
        self.vapid_key()?;
        let subject = &self.vapid_subject;
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
            return Err(ConfigError(format!(
                "FIELDFLOW_VAPID_SUBJECT must be a mailto: or https:// URL, got {subject:?}"
            )));
        }
        Ok(())
    }

    /// The web push signing key, or `None` when `vapid_private_key` is empty (web push is off).
    pub fn vapid_key(&self) -> Result<Option<crate::push::VapidKey>, ConfigError> {
        let raw = self.vapid_private_key.expose_secret().trim();
        if raw.is_empty() {
            return Ok(None);
        }
        crate::push::VapidKey::from_base64url(raw).map(Some).ok_or_else(|| {
            ConfigError(
                "FIELDFLOW_VAPID_PRIVATE_KEY must be base64url of a 32-byte P-256 private key (fieldflow vapid-keygen)"
                    .into(),
            )
        })
    }

    fn check_telegram(&self) -> Result<(), ConfigError> {
        let api = &self.telegram_api_url;
        if !(api.starts_with("http://") || api.starts_with("https://")) || url::Url::parse(api).is_err() {
            return Err(ConfigError(format!("FIELDFLOW_TELEGRAM_API_URL must be an http(s) URL, got {api:?}")));
        }
        if self.telegram_global_per_second == 0 {
            return Err(ConfigError("FIELDFLOW_TELEGRAM_GLOBAL_PER_SECOND must be at least 1".into()));
        }
        Ok(())
    }

    fn check_s3(&self) -> Result<(), ConfigError> {
        if self.s3_bucket.is_empty() {
            return Err(ConfigError("FIELDFLOW_S3_BUCKET must be set when FIELDFLOW_STORAGE_BACKEND=s3".into()));
        }
        if self.s3_region.is_empty() {
            return Err(ConfigError("FIELDFLOW_S3_REGION must not be empty".into()));
        }
        let endpoint = &self.s3_endpoint;
        if !(endpoint.is_empty() || endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(ConfigError(format!(
                "FIELDFLOW_S3_ENDPOINT must be empty or an http(s) URL, got {endpoint:?}"
            )));
        }
        if self.s3_access_key_id.expose_secret().is_empty() || self.s3_secret_access_key.expose_secret().is_empty() {
            return Err(ConfigError(
                "FIELDFLOW_S3_ACCESS_KEY_ID and FIELDFLOW_S3_SECRET_ACCESS_KEY must be set when FIELDFLOW_STORAGE_BACKEND=s3"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The Bot API URL without a trailing slash (teloxide appends `/bot<token>/<method>`).
    pub fn telegram_api_base(&self) -> &str {
        self.telegram_api_url.trim_end_matches('/')
    }

    /// The key of [`crate::secrets::SecretBox`]: `secrets_key` decoded.
    pub fn secrets_key(&self) -> Result<[u8; 32], ConfigError> {
        STANDARD
            .decode(self.secrets_key.expose_secret().trim())
            .ok()
            .and_then(|key| <[u8; 32]>::try_from(key).ok())
            .ok_or_else(|| {
                ConfigError("FIELDFLOW_SECRETS_KEY must be base64 of 32 bytes (openssl rand -base64 32)".into())
            })
    }

    /// The public URL without a trailing slash, for building links.
    pub fn public_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

/// Names the environment variable behind a figment error, so the message says what to fix.
fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let variable = if e.path.is_empty() {
                String::from("a setting")
            } else {
                format!("FIELDFLOW_{}", e.path.join("__").to_uppercase())
            };
            format!("{variable}: {}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
#[allow(clippy::result_large_err, reason = "figment's Jail closures return its large error type")]
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn invalid_values_name_their_variable() {
        Jail::expect_with(|jail| {
            jail.set_env("FIELDFLOW_LISTEN", "not-an-address");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_LISTEN"), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("FIELDFLOW_LOG_FORMAT", "xml");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_LOG_FORMAT"), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("FIELDFLOW_API_RATE_LIMITS__PER_USER_PER_MINUTE", "0");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_API_RATE_LIMITS__PER_USER_PER_MINUTE"), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("FIELDFLOW_OPERATION_CHUNK_ROWS", "201");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_OPERATION_CHUNK_ROWS"), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("FIELDFLOW_JWT_SECRET", "short");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_JWT_SECRET"), "{error}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("FIELDFLOW_ENVIRONMENT", "production");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_JWT_SECRET"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn the_secrets_key_is_32_bytes_and_not_the_development_one_in_production() {
        Jail::expect_with(|jail| {
            jail.set_env("FIELDFLOW_SECRETS_KEY", "c2hvcnQ=");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_SECRETS_KEY"), "{error}");
            jail.set_env("FIELDFLOW_SECRETS_KEY", "not base64!");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_SECRETS_KEY"), "{error}");
            jail.set_env("FIELDFLOW_ENVIRONMENT", "production");
            jail.set_env("FIELDFLOW_JWT_SECRET", "a-production-secret-of-at-least-32-bytes");
            jail.set_env("FIELDFLOW_SECRETS_KEY", DEV_SECRETS_KEY);
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_SECRETS_KEY"), "{error}");
            jail.set_env("FIELDFLOW_SECRETS_KEY", STANDARD.encode([7u8; 32]));
            assert_eq!(Settings::load(None).unwrap().secrets_key().unwrap(), [7u8; 32]);
            Ok(())
        });
    }

    #[test]
    fn the_s3_backend_needs_a_bucket_and_keys() {
        Jail::expect_with(|jail| {
            jail.set_env("FIELDFLOW_STORAGE_BACKEND", "s3");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_S3_BUCKET"), "{error}");
            jail.set_env("FIELDFLOW_S3_BUCKET", "uploads");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_S3_SECRET_ACCESS_KEY"), "{error}");
            jail.set_env("FIELDFLOW_S3_ACCESS_KEY_ID", "key");
            jail.set_env("FIELDFLOW_S3_SECRET_ACCESS_KEY", "secret");
            jail.set_env("FIELDFLOW_S3_ENDPOINT", "minio:9000");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_S3_ENDPOINT"), "{error}");
            jail.set_env("FIELDFLOW_S3_ENDPOINT", "http://127.0.0.1:9000");
            let settings = Settings::load(None).unwrap();
            assert_eq!(settings.storage_backend, StorageBackend::S3);
            assert_eq!(settings.s3_region, "us-east-1");
            assert_eq!(settings.s3_secret_access_key.expose_secret(), "secret");
            jail.set_env("FIELDFLOW_STORAGE_BACKEND", "ftp");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_STORAGE_BACKEND"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn telegram_settings_are_checked() {
        Jail::expect_with(|jail| {
            let settings = Settings::load(None).unwrap();
            assert!(settings.telegram_bot_token.expose_secret().is_empty());
            assert_eq!(settings.telegram_api_base(), "https://api.telegram.org");
            jail.set_env("FIELDFLOW_TELEGRAM_API_URL", "api.telegram.org");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_TELEGRAM_API_URL"), "{error}");
            jail.set_env("FIELDFLOW_TELEGRAM_API_URL", "http://127.0.0.1:8081/");
            assert_eq!(Settings::load(None).unwrap().telegram_api_base(), "http://127.0.0.1:8081");
            jail.set_env("FIELDFLOW_TELEGRAM_GLOBAL_PER_SECOND", "0");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_TELEGRAM_GLOBAL_PER_SECOND"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn web_push_is_off_without_a_key_and_a_bad_key_or_subject_is_named() {
        Jail::expect_with(|jail| {
            assert!(Settings::load(None).unwrap().vapid_key().unwrap().is_none());
            jail.set_env("FIELDFLOW_VAPID_PRIVATE_KEY", "bm90IGEga2V5");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_VAPID_PRIVATE_KEY"), "{error}");
            let (private, public) = crate::push::VapidKey::generate();
            jail.set_env("FIELDFLOW_VAPID_PRIVATE_KEY", &private);
            let key = Settings::load(None).unwrap().vapid_key().unwrap().unwrap();
            assert_eq!(key.public_key(), public);
            jail.set_env("FIELDFLOW_VAPID_SUBJECT", "ops@example.com");
            let error = Settings::load(None).unwrap_err().to_string();
            assert!(error.contains("FIELDFLOW_VAPID_SUBJECT"), "{error}");
            Ok(())
        });
    }

    #[test]
    fn sources_layer_in_order() {
        Jail::expect_with(|jail| {
            jail.create_file("fieldflow.toml", "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\n")?;
            jail.set_env("DATABASE_URL", "postgres://from-database-url/db");
            jail.set_env("FIELDFLOW_LOG_FORMAT", "pretty");
            jail.set_env("FIELDFLOW_RATE_LIMITS__LOGIN_PER_IP_PER_MINUTE", "7");
            jail.set_env("FIELDFLOW_API_RATE_LIMITS__PER_IP_PER_MINUTE", "90");
            let settings = Settings::load(None).unwrap();
            assert_eq!(settings.listen.port(), 9000);
            assert_eq!(settings.log_format, LogFormat::Pretty);
            assert_eq!(settings.database_url.expose_secret(), "postgres://from-database-url/db");
            assert_eq!(settings.rate_limits.login_per_ip_per_minute, 7);
            assert_eq!(settings.api_rate_limits.per_ip_per_minute, 90);
            assert_eq!(settings.api_rate_limits.per_user_per_minute, 600);
            jail.set_env("FIELDFLOW_DATABASE_URL", "postgres://preferred/db");
            let settings = Settings::load(None).unwrap();
            assert_eq!(settings.database_url.expose_secret(), "postgres://preferred/db");
            Ok(())
        });
    }
}
