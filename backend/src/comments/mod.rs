//! Comments on orders: whoever may see an order (a technician: their own) may read its comments;
//! everyone but managers may write. Each comment is also an event of the order's history.

pub mod repo;
pub mod routes;
pub mod service;

pub use service::CommentError;
