//! One-click unsubscribe (RFC 8058) without signing in. Every email carries a link naming its
//! delivery, signed with the server's secret; following it turns that kind of message off for that
//! address. The page is `unsubscribe_page`; this is the signing and what a link does.

use super::repo;
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::Locale;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of the signature kept in a link: 128 bits cannot be guessed.
const SIGNATURE_BYTES: usize = 16;

fn signature(secret: &str, delivery: Uuid) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(b"fieldflow unsubscribe ");
    mac.update(delivery.as_bytes());
    Some(mac)
}

/// The token of one delivery's link.
pub fn token(secret: &str, delivery: Uuid) -> Option<String> {
    let tag = signature(secret, delivery)?.finalize().into_bytes();
    Some(format!("{}.{}", delivery.simple(), URL_SAFE_NO_PAD.encode(&tag[..SIGNATURE_BYTES])))
}

/// The delivery a token names, when its signature is right (compared in constant time).
pub fn verify(secret: &str, token: &str) -> Option<Uuid> {
    let (id, tag) = token.split_once('.')?;
    let delivery = Uuid::try_parse(id).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    signature(secret, delivery)?.verify_truncated_left(&tag).ok()?;
    (tag.len() == SIGNATURE_BYTES).then_some(delivery)
}

pub fn url(state: &AppState, delivery: Uuid) -> Option<String> {
    let token = token(state.settings.jwt_secret.expose_secret(), delivery)?;
    Some(format!("{}/unsubscribe/{token}", state.settings.public_url.trim_end_matches('/')))
}

/// What a valid link unsubscribes; `None` for a link that is forged or names no email delivery.
pub async fn subscription(state: &AppState, token: &str) -> sqlx::Result<Option<repo::EmailSubscription>> {
    let Some(delivery) = verify(state.settings.jwt_secret.expose_secret(), token) else { return Ok(None) };
    repo::email_subscription(&state.db, delivery).await
}

/// Turns off the link's kind of message for its address; answers the reader's language, or `None`
/// for a link that is not valid.
pub async fn unsubscribe(state: &AppState, token: &str) -> sqlx::Result<Option<Locale>> {
    let Some(found) = subscription(state, token).await? else { return Ok(None) };
    repo::unsubscribe(&state.db, found.org, found.user, found.email.as_deref(), &found.kind).await?;
    Ok(Some(found.locale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_unaltered_and_with_the_same_secret() {
        let delivery = Uuid::now_v7();
        let token = token("secret-one", delivery).unwrap();
        assert_eq!(verify("secret-one", &token), Some(delivery));
        assert_eq!(verify("secret-two", &token), None);
        let other = Uuid::now_v7();
        let (_, tag) = token.split_once('.').unwrap();
        assert_eq!(verify("secret-one", &format!("{}.{tag}", other.simple())), None);
        assert_eq!(verify("secret-one", &format!("{}.", delivery.simple())), None);
        assert_eq!(verify("secret-one", "garbage"), None);
    }
}
