//! Request and response bodies of the HTTP API (`/api/v1`).
//!
//! Requests arrive as raw values and are turned into validated ones by `parse`, which reports every
//! bad field at once. Responses carry validated values only.

pub mod attachments;
pub mod auth;
pub mod comments;
pub mod customers;
pub mod dashboard;
pub mod events;
pub mod notifications;
pub mod operations;
pub mod order_list;
pub mod orders;
pub mod org;
pub mod push;
pub mod scheduling;
pub mod service_types;
pub mod technicians;
pub mod users;
pub mod webhooks;

use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

/// A password as typed by a person. Redacted in `Debug` so it never reaches a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Password))]
#[serde(transparent)]
pub struct PasswordInput(pub String);

impl fmt::Debug for PasswordInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordInput(..)")
    }
}

/// For PATCH bodies: an absent field leaves the value alone, `null` clears it.
/// Use with `#[serde(default, deserialize_with = "patch")]` on an `Option<Option<T>>`.
pub fn patch<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// An amount of money in the minor units (kopecks, cents) of its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    pub amount_minor: i64,
    pub currency: crate::Currency,
}
