//! Sign-in, sessions with rotating refresh tokens, password changes and resets.

pub mod emails;
pub mod passwords;
pub mod repo;
pub mod routes;
pub mod service;
pub mod sessions;
pub mod tokens;

pub use service::{AuthError, ClientInfo};
