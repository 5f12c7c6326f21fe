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

/// For list-valued query parameters: `status=new&status=assigned`, `status=new,assigned` or both
/// mixed, each item parsed as a `T`; blank items are skipped. Use with
/// `#[serde(default, deserialize_with = "one_or_many")]` on a `Vec<T>`.
pub fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::de::{self, IntoDeserializer, SeqAccess, Visitor};
    use std::marker::PhantomData;

    fn push_items<T: de::DeserializeOwned, E: de::Error>(items: &mut Vec<T>, text: &str) -> Result<(), E> {
        for item in text.split(',').map(str::trim).filter(|item| !item.is_empty()) {
            let item: de::value::StringDeserializer<E> = item.to_owned().into_deserializer();
            items.push(T::deserialize(item)?);
        }
        Ok(())
    }

    struct Items<T>(PhantomData<T>);

    impl<'de, T: de::DeserializeOwned> Visitor<'de> for Items<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a value, a comma-separated list of values, or the parameter repeated")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Vec<T>, E> {
            let mut items = Vec::new();
            push_items(&mut items, text)?;
            Ok(items)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while let Some(text) = seq.next_element::<String>()? {
                push_items(&mut items, &text)?;
            }
            Ok(items)
        }
    }

    deserializer.deserialize_any(Items(PhantomData))
}

/// An amount of money in the minor units (kopecks, cents) of its currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    pub amount_minor: i64,
    pub currency: crate::Currency,
}
