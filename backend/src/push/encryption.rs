//! Message encryption for web push (RFC 8291 with the `aes128gcm` content coding of RFC 8188):
//! only the browser, holding the private half of its `p256dh` key and its `auth` secret, can read
//! what the push service carries. Each message uses a new ephemeral key and salt.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use hkdf::Hkdf;
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use rand::RngCore;
use sha2::Sha256;

/// The record size written in the header; a message is one record, so it must fit within it.
const RECORD_SIZE: u32 = 4096;
/// salt (16), record size (4), key id length (1), key id: the sender's public point (65).
const HEADER_BYTES: usize = 16 + 4 + 1 + 65;
/// The padding delimiter of the last (only) record, and the AES-GCM tag.
const RECORD_OVERHEAD: usize = 1 + 16;
/// Push services take bodies of up to 4096 bytes: what is left for the message itself.
pub const MAX_PLAINTEXT: usize = 4096 - HEADER_BYTES - RECORD_OVERHEAD;

/// The browser's key, when `p256dh` is an uncompressed point on P-256.
pub fn browser_key(p256dh: &[u8]) -> Option<PublicKey> {
    (p256dh.len() == 65 && p256dh[0] == 0x04).then(|| PublicKey::from_sec1_bytes(p256dh).ok()).flatten()
}

/// Encrypts `plaintext` (at most [`MAX_PLAINTEXT`] bytes) to a browser, with a fresh ephemeral
/// key and salt: the request body, header included.
pub fn encrypt(plaintext: &[u8], browser: &PublicKey, auth: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    encrypt_with(plaintext, browser, auth, &super::vapid::random_secret(), salt)
}

/// [`encrypt`] with the sender's key and the salt given: the RFC's test vector fixes both.
fn encrypt_with(
    plaintext: &[u8],
    browser: &PublicKey,
    auth: &[u8],
    sender: &SecretKey,
    salt: [u8; 16],
) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(plaintext.len() <= MAX_PLAINTEXT, "a push message of {} bytes is too long", plaintext.len());
    let sender_public = sender.public_key().to_encoded_point(false);
    let browser_public = browser.to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(sender.to_nonzero_scalar(), browser.as_affine());

    // IKM = HKDF(salt = auth, ikm = ECDH secret, info = "WebPush: info" 0 ua_public as_public).
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(browser_public.as_bytes());
    key_info.extend_from_slice(sender_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .map_err(|_| anyhow::anyhow!("HKDF of the input key"))?;

    // The content encryption key and nonce of RFC 8188, from the message's salt.
    let record_keys = Hkdf::<Sha256>::new(Some(&salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    record_keys
        .expand(b"Content-Encoding: aes128gcm\0", &mut cek)
        .and_then(|()| record_keys.expand(b"Content-Encoding: nonce\0", &mut nonce))
        .map_err(|_| anyhow::anyhow!("HKDF of the content key"))?;

    let mut record = Vec::with_capacity(plaintext.len() + 1);
    record.extend_from_slice(plaintext);
    record.push(0x02);
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|_| anyhow::anyhow!("an AES-128 key of 16 bytes"))?;
    let sealed = cipher
        .encrypt(&Nonce::from(nonce), record.as_slice())
        .map_err(|_| anyhow::anyhow!("encrypting a push message"))?;

    let mut body = Vec::with_capacity(HEADER_BYTES + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(sender_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn b64(raw: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(raw).unwrap()
    }

    /// RFC 8291, section 5: the example message, byte for byte.
    #[test]
    fn the_rfc_8291_example_encrypts_to_its_published_body() {
        let sender = SecretKey::from_slice(&b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")).unwrap();
        let browser = browser_key(&b64(
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        ))
        .unwrap();
        let auth = b64("BTBZMqHH6r4Tts7J_aSIgg");
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(b"When I grow up, I want to be a watermelon", &browser, &auth, &sender, salt).unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6P\
             Bru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn each_message_has_its_own_key_and_salt_and_the_size_is_bounded() {
        let browser = super::super::vapid::random_secret().public_key();
        let auth = [3u8; 16];
        let one = encrypt(b"hello", &browser, &auth).unwrap();
        let two = encrypt(b"hello", &browser, &auth).unwrap();
        assert_eq!(one.len(), HEADER_BYTES + 5 + RECORD_OVERHEAD);
        assert_ne!(one[..16], two[..16], "salt");
        assert_ne!(one[21..86], two[21..86], "ephemeral key");
        assert_eq!(encrypt(&[b'x'; MAX_PLAINTEXT], &browser, &auth).unwrap().len(), 4096);
        assert!(encrypt(&[b'x'; MAX_PLAINTEXT + 1], &browser, &auth).is_err());
    }

    #[test]
    fn only_uncompressed_points_on_the_curve_are_browser_keys() {
        let point = super::super::vapid::random_secret().public_key().to_encoded_point(false);
        assert!(browser_key(point.as_bytes()).is_some());
        let mut off_curve = point.as_bytes().to_vec();
        off_curve[64] ^= 1;
        assert!(browser_key(&off_curve).is_none());
        let compressed = super::super::vapid::random_secret().public_key().to_encoded_point(true);
        assert!(browser_key(compressed.as_bytes()).is_none());
    }
}
