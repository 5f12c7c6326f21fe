//! Web push: the browsers a person subscribed under `/me/push-subscriptions`, and the server's
//! VAPID public key their service worker subscribes with.

use crate::{Cursor, FieldError, FieldErrors, PushSubscriptionId, Validator};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A person keeps at most this many browsers; subscribing another forgets the one heard from least
/// recently (a browser that re-subscribes gets a new endpoint and leaves its old one behind).
pub const MAX_SUBSCRIPTIONS_PER_USER: usize = 10;
/// The longest endpoint URL accepted.
pub const MAX_ENDPOINT_CHARS: usize = 2048;
/// Bytes of an uncompressed P-256 point: `0x04`, then x and y.
pub const P256DH_BYTES: usize = 65;
/// Bytes of the browser's authentication secret.
pub const AUTH_BYTES: usize = 16;

/// Answer of `GET /push/vapid-public-key`: the `applicationServerKey` to pass to
/// `pushManager.subscribe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VapidPublicKey {
    /// The uncompressed P-256 public key (65 bytes), base64url without padding.
    pub public_key: String,
}

/// `POST /me/push-subscriptions`: what the browser's `PushSubscription.toJSON()` gives.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushSubscriptionRequest {
    /// The push service's URL for this browser: `https`, at most 2048 characters.
    pub endpoint: String,
    /// When the browser lets the subscription lapse, in milliseconds since the epoch; not used
    /// (a lapsed one is answered 404 or 410 and then forgotten).
    #[serde(default, rename = "expirationTime")]
    pub expiration_time: Option<f64>,
    pub keys: PushKeys,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PushKeys {
    /// The browser's P-256 public key, uncompressed (65 bytes), base64url.
    pub p256dh: String,
    /// The browser's authentication secret (16 bytes), base64url.
    pub auth: String,
}

/// A subscribed browser, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PushSubscriptionView {
    pub id: PushSubscriptionId,
    pub endpoint: String,
    /// The `User-Agent` of the browser that subscribed, to tell devices apart.
    pub user_agent: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the push service last accepted a message for this browser.
    pub last_success_at: Option<DateTime<Utc>>,
}

/// Query of `GET /me/push-subscriptions`: oldest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListPushSubscriptionsQuery {
    pub cursor: Option<Cursor>,
    /// Page size, 1 to 200 (default 50).
    pub limit: Option<u32>,
}

/// A subscription whose fields are well-formed. Whether the key is a point on the curve and the
/// endpoint's host may be called are the server's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPushSubscription {
    pub endpoint: url::Url,
    pub p256dh: Vec<u8>,
    pub auth: Vec<u8>,
}

impl PushSubscriptionRequest {
    /// `allow_plain_http`: accept `http` endpoints (a local push service in tests and development).
    pub fn parse(&self, allow_plain_http: bool) -> Result<NewPushSubscription, FieldErrors> {
        let mut v = Validator::default();
        let endpoint = v.check("endpoint", parse_endpoint(&self.endpoint, allow_plain_http));
        let p256dh = v.check("keys.p256dh", decode_key(&self.keys.p256dh, P256DH_BYTES));
        let p256dh = p256dh.filter(|key| {
            let uncompressed = key.first() == Some(&0x04);
            if !uncompressed {
                v.add("keys.p256dh", FieldError::new("invalid_key", "must be an uncompressed P-256 point"));
            }
            uncompressed
        });
        let auth = v.check("keys.auth", decode_key(&self.keys.auth, AUTH_BYTES));
        v.finish(|| Some(NewPushSubscription { endpoint: endpoint?, p256dh: p256dh?, auth: auth? }))
    }
}

fn parse_endpoint(raw: &str, allow_plain_http: bool) -> Result<url::Url, FieldError> {
    let invalid = |message: &str| FieldError::new("invalid_url", message);
    if raw.chars().count() > MAX_ENDPOINT_CHARS {
        return Err(FieldError::new("too_long", format!("must have at most {MAX_ENDPOINT_CHARS} characters")));
    }
    let url = url::Url::parse(raw.trim()).map_err(|_| invalid("must be an absolute https URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_plain_http => {}
        _ => return Err(invalid("must be an https URL")),
    }
    if url.host().is_none() {
        return Err(invalid("must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not carry a user name or password"));
    }
    Ok(url)
}

/// Base64url (padded or not, as browsers differ) of exactly `bytes` bytes.
fn decode_key(raw: &str, bytes: usize) -> Result<Vec<u8>, FieldError> {
    let key = URL_SAFE_NO_PAD
        .decode(raw.trim().trim_end_matches('='))
        .map_err(|_| FieldError::new("invalid_key", "must be base64url"))?;
    if key.len() == bytes {
        Ok(key)
    } else {
        Err(FieldError::new("invalid_key", format!("must be {bytes} bytes, got {}", key.len())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(endpoint: &str, p256dh: &str, auth: &str) -> PushSubscriptionRequest {
        serde_json::from_value(json!({
            "endpoint": endpoint, "expirationTime": null, "keys": { "p256dh": p256dh, "auth": auth }
        }))
        .unwrap()
    }

    fn point() -> String {
        let mut key = vec![0x04];
        key.extend([7u8; 64]);
        URL_SAFE_NO_PAD.encode(key)
    }

    #[test]
    fn a_browsers_subscription_json_is_parsed() {
        let auth = URL_SAFE_NO_PAD.encode([9u8; 16]);
        let parsed = request("https://fcm.googleapis.com/fcm/send/abc", &point(), &format!("{auth}==")).parse(false);
        let parsed = parsed.unwrap();
        assert_eq!(parsed.endpoint.as_str(), "https://fcm.googleapis.com/fcm/send/abc");
        assert_eq!((parsed.p256dh.len(), parsed.auth), (65, vec![9u8; 16]));
    }

    #[test]
    fn every_bad_field_is_named() {
        let compressed = URL_SAFE_NO_PAD.encode([[0x02u8].as_slice(), &[7u8; 64]].concat());
        let errors = request("http://push.example.com/x", &compressed, "c2hvcnQ").parse(false).unwrap_err();
        let fields: Vec<&str> = errors.fields.keys().map(String::as_str).collect();
        assert_eq!(fields, ["endpoint", "keys.auth", "keys.p256dh"]);
        assert_eq!(errors.fields["keys.p256dh"][0].code, "invalid_key");
        assert!(request("http://127.0.0.1:9/x", &point(), "AAAAAAAAAAAAAAAAAAAAAA").parse(true).is_ok());
        for bad in ["", "push.example.com/x", "https://user:pw@push.example.com/", "ftp://push.example.com/"] {
            let errors = request(bad, &point(), "AAAAAAAAAAAAAAAAAAAAAA").parse(true).unwrap_err();
            assert_eq!(errors.fields["endpoint"][0].code, "invalid_url", "{bad:?}");
        }
        let long = format!("https://push.example.com/{}", "a".repeat(MAX_ENDPOINT_CHARS));
        assert_eq!(request(&long, &point(), "!").parse(false).unwrap_err().fields["endpoint"][0].code, "too_long");
    }
}
