//! People of an organization: the signed-in user's own profile and admin management of users.

pub mod repo;
pub mod routes;
pub mod service;

pub use service::UserError;
