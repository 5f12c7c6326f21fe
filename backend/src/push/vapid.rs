//! VAPID (RFC 8292): the key that identifies this server to push services. Browsers subscribe with
//! its public half (`applicationServerKey`), and each request carries a short-lived ES256 JWT signed
//! with the private half, so only we can push to the subscriptions made with our key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use p256::SecretKey;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::RngCore;
use serde_json::json;

/// How long a token is good for; RFC 8292 allows up to 24 hours.
pub const TOKEN_LIFETIME: chrono::Duration = chrono::Duration::hours(12);

/// The private key and its public half. Never printed.
#[derive(Clone)]
pub struct VapidKey {
    signing: SigningKey,
    /// The uncompressed public point, base64url.
    public: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey").field("public", &self.public).finish_non_exhaustive()
    }
}

impl VapidKey {
    /// A key from base64url of its 32-byte scalar; `None` when that is not a valid P-256 key.
    pub fn from_base64url(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim().trim_end_matches('=')).ok()?;
        let secret = SecretKey::from_slice(&bytes).ok().filter(|_| bytes.len() == 32)?;
        Some(Self::from_secret(&secret))
    }

    fn from_secret(secret: &SecretKey) -> Self {
        let public = URL_SAFE_NO_PAD.encode(secret.public_key().to_encoded_point(false).as_bytes());
        Self { signing: SigningKey::from(secret), public }
    }

    /// A new key pair: (private, public), both base64url, as `fieldflow vapid-keygen` prints them.
    pub fn generate() -> (String, String) {
        let secret = random_secret();
        let key = Self::from_secret(&secret);
        (URL_SAFE_NO_PAD.encode(secret.to_bytes()), key.public)
    }

    /// The `applicationServerKey`: the uncompressed public point, base64url.
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header of a request to `endpoint`: `vapid t=<JWT>, k=<public key>`, the
    /// JWT's audience being the endpoint's origin.
    pub fn authorization(&self, endpoint: &url::Url, subject: &str, now: DateTime<Utc>) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = json!({
            "aud": endpoint.origin().ascii_serialization(),
            "exp": (now + TOKEN_LIFETIME).timestamp(),
            "sub": subject,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        // JWS ES256 signatures are r and s, 32 bytes each, not DER.
        let signature: Signature = self.signing.sign(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(signature.to_bytes());
        format!("vapid t={signing_input}.{signature}, k={}", self.public)
    }
}

/// A random P-256 private key (a random 32-byte string is one, unless it is zero or beyond the
/// group order, which happens with probability about 2^-32).
pub(super) fn random_secret() -> SecretKey {
    loop {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        if let Ok(secret) = SecretKey::from_slice(&bytes) {
            return secret;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier;

    #[test]
    fn a_token_names_the_origin_and_verifies_with_the_public_key() {
        let (private, public) = VapidKey::generate();
        let key = VapidKey::from_base64url(&private).unwrap();
        assert_eq!(key.public_key(), public);
        let endpoint = url::Url::parse("https://push.example.net:8443/wpush/v2/abc?x=1").unwrap();
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let header = key.authorization(&endpoint, "mailto:ops@example.com", now);
        let (token, k) = header.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, public);
        let parts: Vec<&str> = token.split('.').collect();
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["sub"], "mailto:ops@example.com");
        assert_eq!(claims["exp"], 1_800_000_000 + 12 * 3600);
        let verifying = VerifyingKey::from_sec1_bytes(&URL_SAFE_NO_PAD.decode(k).unwrap()).unwrap();
        let signature = Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        assert!(verifying.verify(signed.as_bytes(), &signature).is_ok());
        assert!(verifying.verify(b"something else", &signature).is_err());
    }

    #[test]
    fn only_32_byte_scalars_are_keys() {
        assert!(VapidKey::from_base64url("").is_none());
        assert!(VapidKey::from_base64url(&URL_SAFE_NO_PAD.encode([0u8; 32])).is_none());
        assert!(VapidKey::from_base64url(&URL_SAFE_NO_PAD.encode([1u8; 31])).is_none());
        assert!(VapidKey::from_base64url(&URL_SAFE_NO_PAD.encode([1u8; 32])).is_some());
    }
}
