use crate::config::Settings;
use anyhow::Context;
use secrecy::ExposeSecret;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

/// The embedded migrations of `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

pub async fn connect(settings: &Settings) -> anyhow::Result<PgPool> {
    PgPoolOptions::new()
        .max_connections(settings.database_max_connections)
        .acquire_timeout(Duration::from_secs(5))
        // sqlx pings each connection before lending it, a round trip per request for nothing: a
        // broken connection fails its query instead and the pool drops it.
        .test_before_acquire(false)
        .connect(settings.database_url.expose_secret())
        .await
        .context("cannot connect to PostgreSQL at FIELDFLOW_DATABASE_URL")
}

/// Creates the database named in the URL when the server does not have it yet, so a fresh
/// PostgreSQL needs nothing done by hand.
pub async fn create_if_missing(settings: &Settings) -> anyhow::Result<()> {
    use sqlx::migrate::MigrateDatabase;
    let url = settings.database_url.expose_secret();
    if !sqlx::Postgres::database_exists(url).await.context("checking the database at FIELDFLOW_DATABASE_URL")? {
        sqlx::Postgres::create_database(url).await.context("creating the database at FIELDFLOW_DATABASE_URL")?;
        tracing::info!("database created");
    }
    Ok(())
}

pub async fn migrate(db: &PgPool) -> anyhow::Result<()> {
    MIGRATOR.run(db).await.context("running migrations")
}

/// Whether a database error is the violation of the named unique constraint or index.
pub fn is_unique_violation(error: &sqlx::Error, constraint: &str) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation() && e.constraint() == Some(constraint))
}

/// `LIKE` pattern for "contains", with the wildcards of the input escaped.
pub fn like_contains(raw: &str) -> String {
    let escaped = raw.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// One round trip to PostgreSQL: whether the database answers.
pub async fn ping(db: &PgPool) -> sqlx::Result<()> {
    sqlx::query("SELECT 1").execute(db).await.map(drop)
}
