//! Secrets kept at rest (webhook signing secrets): sealed with AES-256-GCM under the deployment's
//! `secrets_key`, so a copy of the database alone does not reveal them.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::Context;
use rand::RngCore;
use std::sync::Arc;

/// Bytes of the random nonce that starts every sealed value (96 bits, GCM's native size).
const NONCE_BYTES: usize = 12;

/// Seals and opens secrets. Cheap to clone; the key is never printed.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Arc<Aes256Gcm>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        Self { cipher: Arc::new(Aes256Gcm::new(&(*key).into())) }
    }

    /// Encrypts and authenticates `plaintext`: a fresh random nonce, then the ciphertext and its tag.
    /// Fails only for a plaintext beyond GCM's limit (64 GiB).
    pub fn seal(&self, plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher
            .encrypt(&Nonce::from(nonce), plaintext)
            .map_err(|_| anyhow::anyhow!("sealing a secret of {} bytes failed", plaintext.len()))?;
        let mut sealed = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    /// The plaintext of a value [`SecretBox::seal`] made with the same key; fails when the value was
    /// altered, cut short, or sealed under another key.
    pub fn open(&self, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE_BYTES).context("a sealed secret is too short")?;
        let nonce = Nonce::try_from(nonce).context("a sealed secret's nonce")?;
        self.cipher.decrypt(&nonce, ciphertext).map_err(|_| {
            anyhow::anyhow!("a sealed secret does not open: altered, or sealed under another FIELDFLOW_SECRETS_KEY")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_to_itself_and_hides_it() {
        let secrets = SecretBox::new(&[1; 32]);
        let sealed = secrets.seal(b"whsec_abc").unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"whsec_abc"));
        assert_eq!(secrets.open(&sealed).unwrap(), b"whsec_abc");
        // A fresh nonce each time: the same secret never seals to the same bytes.
        assert_ne!(secrets.seal(b"whsec_abc").unwrap(), sealed);
        assert_eq!(secrets.open(&secrets.seal(b"").unwrap()).unwrap(), b"");
    }

    #[test]
    fn any_change_to_a_sealed_secret_is_detected() {
        let secrets = SecretBox::new(&[1; 32]);
        let sealed = secrets.seal(b"whsec_abc").unwrap();
        for at in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[at] ^= 0x01;
            assert!(secrets.open(&tampered).is_err(), "a flipped bit at {at} went unnoticed");
        }
        assert!(secrets.open(&sealed[..sealed.len() - 1]).is_err());
        assert!(secrets.open(&sealed[..5]).is_err());
    }

    #[test]
    fn another_key_cannot_open_it() {
        let sealed = SecretBox::new(&[1; 32]).seal(b"whsec_abc").unwrap();
        assert!(SecretBox::new(&[2; 32]).open(&sealed).is_err());
    }
}
