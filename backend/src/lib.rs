//! Fieldflow's backend: the HTTP API, the services that hold every business rule and permission
//! check, and the repositories that hold the SQL. See `docs/ARCHITECTURE.md`.

pub mod actor;
pub mod app;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod comments;
pub mod config;
pub mod customers;
pub mod dashboard;
pub mod db;
pub mod error;
pub mod events;
pub mod html;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod notifications;
pub mod offers;
pub mod operations;
pub mod orders;
pub mod orgs;
pub mod periodic;
pub mod push;
pub mod rate_limit;
pub mod recurring;
pub mod redis_guard;
pub mod scheduling;
pub mod secrets;
pub mod seed;
pub mod service_types;
pub mod state;
pub mod storage;
pub mod technicians;
pub mod telegram;
pub mod telemetry;
pub mod tracking;
pub mod users;
pub mod webhooks;

/// Makes ring, the rustls provider of every TLS client here, the process default. reqwest (the S3
/// store's transport, and the HTTP client of tests and benchmarks) is built without a provider of
/// its own, since its bundled one is aws-lc-rs; it panics when it builds a client before this ran.
pub fn install_crypto_provider() {
    // Err means a provider is installed already, which is all that is needed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
