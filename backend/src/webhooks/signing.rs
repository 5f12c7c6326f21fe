//! The webhook signature (`docs/WEBHOOKS.md`): `Fieldflow-Signature: t=<unix seconds>,v1=<hex>`,
//! where `<hex>` is the lowercase hex HMAC-SHA256, keyed with the endpoint's secret as written
//! (`whsec_…`, as UTF-8 bytes), of the timestamp, a `.`, and the raw request body.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

pub const SIGNATURE_HEADER: &str = "Fieldflow-Signature";

/// How far from its own clock a receiver should accept a timestamp: enough for clock drift and a
/// slow network, short enough that a captured request cannot be replayed later.
pub const RECOMMENDED_TOLERANCE: Duration = Duration::from_secs(300);

type HmacSha256 = Hmac<Sha256>;

/// Why a signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is not `t=<unix seconds>,v1=<hex>`")]
    Malformed,
    #[error("no v1 signature matches the body")]
    Mismatch,
    #[error("the signature's timestamp is too far from now")]
    Stale,
}

fn keyed(secret: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The lowercase hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    hex::encode(keyed(secret, timestamp, body).finalize().into_bytes())
}

/// The value of the `Fieldflow-Signature` header for a body sent at `timestamp` (unix seconds).
pub fn header_value(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", signature(secret, timestamp, body))
}

/// What a receiver should do with a request: accept it only when one of the header's `v1`
/// signatures is the HMAC of its timestamp and the raw body (compared in constant time), and the
/// timestamp is within `tolerance` of `now` (unix seconds). Unknown keys in the header are ignored,
/// so later schemes can be added beside `v1`.
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance: Duration) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) if timestamp.is_none() => {
                timestamp = Some(value.parse::<i64>().map_err(|_| SignatureError::Malformed)?);
            }
            Some(("t", _)) => return Err(SignatureError::Malformed),
            Some(("v1", value)) => candidates.push(value),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let expected = keyed(secret, timestamp, body);
    let matches = candidates
        .iter()
        .filter_map(|candidate| hex::decode(candidate).ok())
        .any(|candidate| expected.clone().verify_slice(&candidate).is_ok());
    if !matches {
        return Err(SignatureError::Mismatch);
    }
    if now.abs_diff(timestamp) > tolerance.as_secs() {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vector of docs/WEBHOOKS.md. The expected value was computed apart from this code:
    /// `printf '%s' "$T.$BODY" | openssl dgst -sha256 -hmac "$SECRET"`.
    const SECRET: &str = "whsec_Xk3UZPbUy0lYhL1k6xAKsQ3YkcnS7gqTP4QYw9cVmHo";
    const TIMESTAMP: i64 = 1_767_225_600;
    const BODY: &str = r#"{"id":"019b7a2e-4c00-7000-8000-000000000001","type":"ping","created_at":"2026-01-01T00:00:00Z","organization_id":"019b7a2e-4c00-7000-8000-0000000000aa","data":{"endpoint_id":"019b7a2e-4c00-7000-8000-0000000000bb"}}"#;
    const EXPECTED: &str = "b8a24b027dfb23d7612e8d1d826eacb645f2416f72c58adc0ab9644f90005a1b";

    #[test]
    fn the_documented_test_vector_holds() {
        assert_eq!(signature(SECRET, TIMESTAMP, BODY.as_bytes()), EXPECTED);
        assert_eq!(header_value(SECRET, TIMESTAMP, BODY.as_bytes()), format!("t={TIMESTAMP},v1={EXPECTED}"));
        let header = format!("t={TIMESTAMP},v1={EXPECTED}");
        assert_eq!(verify(SECRET, &header, BODY.as_bytes(), TIMESTAMP + 10, RECOMMENDED_TOLERANCE), Ok(()));
    }

    #[test]
    fn a_changed_body_secret_or_timestamp_does_not_verify() {
        let header = header_value(SECRET, TIMESTAMP, BODY.as_bytes());
        let now = TIMESTAMP;
        let tolerance = RECOMMENDED_TOLERANCE;
        let other_body = BODY.replace("ping", "pong");
        assert_eq!(verify(SECRET, &header, other_body.as_bytes(), now, tolerance), Err(SignatureError::Mismatch));
        assert_eq!(verify("whsec_other", &header, BODY.as_bytes(), now, tolerance), Err(SignatureError::Mismatch));
        let moved = header.replace(&TIMESTAMP.to_string(), &(TIMESTAMP + 1).to_string());
        assert_eq!(verify(SECRET, &moved, BODY.as_bytes(), now, tolerance), Err(SignatureError::Mismatch));
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let header = header_value(SECRET, TIMESTAMP, BODY.as_bytes());
        let tolerance = Duration::from_secs(300);
        for now in [TIMESTAMP - 300, TIMESTAMP + 300] {
            assert_eq!(verify(SECRET, &header, BODY.as_bytes(), now, tolerance), Ok(()));
        }
        for now in [TIMESTAMP - 301, TIMESTAMP + 301, 0] {
            assert_eq!(verify(SECRET, &header, BODY.as_bytes(), now, tolerance), Err(SignatureError::Stale));
        }
    }

    #[test]
    fn any_matching_v1_is_enough_and_unknown_keys_are_ignored() {
        let good = signature(SECRET, TIMESTAMP, BODY.as_bytes());
        let header = format!("t={TIMESTAMP}, v0=abc, v1={}, v1=zz-not-hex, v1={good}", "0".repeat(64));
        assert_eq!(verify(SECRET, &header, BODY.as_bytes(), TIMESTAMP, RECOMMENDED_TOLERANCE), Ok(()));
    }

    #[test]
    fn malformed_headers_are_refused() {
        let good = signature(SECRET, TIMESTAMP, BODY.as_bytes());
        for header in [
            String::new(),
            format!("v1={good}"),
            format!("t={TIMESTAMP}"),
            format!("t=yesterday,v1={good}"),
            format!("t={TIMESTAMP},t={TIMESTAMP},v1={good}"),
        ] {
            assert_eq!(
                verify(SECRET, &header, BODY.as_bytes(), TIMESTAMP, RECOMMENDED_TOLERANCE),
                Err(SignatureError::Malformed),
                "{header:?}"
            );
        }
    }
}
