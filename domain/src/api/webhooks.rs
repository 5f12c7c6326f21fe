//! Outgoing webhooks: the endpoints an organization's admins register under `/webhooks`. What a
//! delivery carries and how it is signed is in `docs/WEBHOOKS.md`.

use super::patch;
use crate::orders::{event_kinds, is_event_kind};
use crate::{Cursor, FieldError, FieldErrors, Label, Validator, WebhookEndpointId, WebhookUrl};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// At most this many endpoints per organization.
pub const MAX_ENDPOINTS: usize = 20;

/// An endpoint as admins see it. Its secret is shown only by create and rotate-secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpointView {
    pub id: WebhookEndpointId,
    pub url: WebhookUrl,
    pub description: Option<Label>,
    /// The order event kinds sent to it; empty means every kind.
    pub event_types: Vec<String>,
    /// Inactive endpoints are sent nothing (a ping still reaches them).
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Answer of `POST /webhooks` and `POST /webhooks/{id}/rotate-secret`: the only times the signing
/// secret is shown. Store it where the receiver can read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEndpointWithSecret {
    pub endpoint: WebhookEndpointView,
    /// `whsec_` and 43 more characters; the HMAC-SHA256 key of the `Fieldflow-Signature` header.
    pub secret: String,
}

/// `POST /webhooks`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// An absolute `http` or `https` URL without credentials, at most 2048 characters.
    pub url: String,
    /// Up to 200 characters on one line.
    pub description: Option<String>,
    /// Order event kinds (`created`, `assign`, `complete`, `comment`…); absent or empty for every kind.
    #[serde(default)]
    pub event_types: Vec<String>,
}

/// `PATCH /webhooks/{id}`: absent fields stay as they are; `description: null` clears it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    pub url: Option<String>,
    #[serde(default, deserialize_with = "patch")]
    pub description: Option<Option<String>>,
    /// Replaces the whole list; empty for every kind.
    pub event_types: Option<Vec<String>>,
    pub active: Option<bool>,
}

/// Query of `GET /webhooks`: oldest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListWebhooksQuery {
    pub cursor: Option<Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// Answer of `POST /webhooks/{id}/ping`: how one signed `ping` delivery went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PingResult {
    /// The receiver answered with a 2xx status.
    pub delivered: bool,
    /// The receiver's HTTP status, when it answered at all.
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    /// Why it was not delivered: the status and the start of the answer, a network error, or a
    /// refused address.
    pub error: Option<String>,
}

/// A validated `POST /webhooks`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhookEndpoint {
    pub url: WebhookUrl,
    pub description: Option<Label>,
    pub event_types: Vec<String>,
}

/// A validated `PATCH /webhooks/{id}`; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookChanges {
    pub url: Option<WebhookUrl>,
    pub description: Option<Option<Label>>,
    pub event_types: Option<Vec<String>>,
    pub active: Option<bool>,
}

impl CreateWebhookRequest {
    pub fn parse(&self) -> Result<NewWebhookEndpoint, FieldErrors> {
        let mut v = Validator::default();
        let url = v.check("url", WebhookUrl::parse(&self.url));
        let description = check_description(&mut v, self.description.as_deref());
        let event_types = check_event_types(&mut v, &self.event_types);
        v.finish(|| Some(NewWebhookEndpoint { url: url?, description: description?, event_types: event_types? }))
    }
}

impl UpdateWebhookRequest {
    pub fn parse(&self) -> Result<WebhookChanges, FieldErrors> {
        let mut v = Validator::default();
        let url = v.check_opt("url", self.url.as_deref().map(WebhookUrl::parse));
        let description = match &self.description {
            None => Some(None),
            Some(raw) => check_description(&mut v, raw.as_deref()).map(Some),
        };
        let event_types = match &self.event_types {
            None => Some(None),
            Some(raw) => check_event_types(&mut v, raw).map(Some),
        };
        v.finish(|| {
            Some(WebhookChanges {
                url: url?,
                description: description?,
                event_types: event_types?,
                active: self.active,
            })
        })
    }
}

/// A blank description is none.
fn check_description(v: &mut Validator, raw: Option<&str>) -> Option<Option<Label>> {
    match raw.map(str::trim) {
        None | Some("") => Some(None),
        Some(text) => v.check("description", Label::parse(text)).map(Some),
    }
}

/// Known kinds only, each once, in the order of `event_kinds`.
fn check_event_types(v: &mut Validator, raw: &[String]) -> Option<Vec<String>> {
    let mut known = true;
    for (index, kind) in raw.iter().enumerate() {
        if !is_event_kind(kind) {
            known = false;
            let all: Vec<&str> = event_kinds().collect();
            v.add(
                &format!("event_types[{index}]"),
                FieldError::new("unknown_event_type", format!("is not an order event kind; known: {}", all.join(", "))),
            );
        }
    }
    let wanted: HashSet<&str> = raw.iter().map(String::as_str).collect();
    known.then(|| event_kinds().filter(|kind| wanted.contains(kind)).map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_new_endpoint_is_parsed_with_its_kinds_in_order_once() {
        let request: CreateWebhookRequest = serde_json::from_value(json!({
            "url": "https://hooks.example.com/in", "description": "  ", "event_types": ["complete", "created", "complete"]
        }))
        .unwrap();
        let endpoint = request.parse().unwrap();
        assert_eq!(endpoint.url.as_str(), "https://hooks.example.com/in");
        assert_eq!(endpoint.description, None);
        assert_eq!(endpoint.event_types, ["complete", "created"]);
    }

    #[test]
    fn every_bad_field_is_named() {
        let request: CreateWebhookRequest = serde_json::from_value(json!({
            "url": "ftp://example.com", "description": "x".repeat(201), "event_types": ["created", "ping", "Assign"]
        }))
        .unwrap();
        let errors = request.parse().unwrap_err();
        let fields: Vec<&str> = errors.fields.keys().map(String::as_str).collect();
        assert_eq!(fields, ["description", "event_types[1]", "event_types[2]", "url"]);
        assert_eq!(errors.fields["event_types[1]"][0].code, "unknown_event_type");
    }

    #[test]
    fn a_patch_distinguishes_absent_from_null() {
        let clear: UpdateWebhookRequest = serde_json::from_value(json!({ "description": null })).unwrap();
        assert_eq!(clear.parse().unwrap(), WebhookChanges { description: Some(None), ..WebhookChanges::default() });
        let none: UpdateWebhookRequest = serde_json::from_value(json!({ "active": false })).unwrap();
        assert_eq!(none.parse().unwrap(), WebhookChanges { active: Some(false), ..WebhookChanges::default() });
        let bad: UpdateWebhookRequest = serde_json::from_value(json!({ "url": "not a url" })).unwrap();
        assert!(bad.parse().unwrap_err().fields.contains_key("url"));
    }
}
