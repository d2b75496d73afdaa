//! Secrets encrypted at rest (pure functions, no I/O).
//!
//! [`SecretBox`] seals a string with AES-256-GCM under a random 96-bit nonce and answers
//! `v1:<base64(nonce || ciphertext+tag)>`. It holds one or more keys: [`SecretBox::seal`]
//! always uses the first, [`SecretBox::open`] tries each in turn, so a key can be rotated by
//! putting the new key first and keeping the old one until every value is resealed.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

/// Prefix of the current sealed format.
const VERSION_PREFIX: &str = "v1:";
/// Length of an AES-GCM nonce in bytes.
const NONCE_LEN: usize = 12;
/// Length of an AES-256 key in bytes.
pub const KEY_LEN: usize = 32;

/// Why a key could not be built or a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// The key is not base64 of exactly 32 bytes.
    #[error("encryption key must be base64 of exactly 32 bytes ({0})")]
    InvalidKey(String),
    /// The sealed value is not `v1:<base64>` of at least a nonce and a tag.
    #[error("sealed secret is malformed ({0})")]
    Malformed(&'static str),
    /// No key opened the value: wrong key, or the value was tampered with.
    #[error("sealed secret could not be decrypted (wrong key or tampered value)")]
    Decrypt,
    /// The decrypted bytes are not UTF-8.
    #[error("decrypted secret is not UTF-8")]
    NotUtf8,
    /// Sealing failed (not expected with AES-GCM on strings that fit in memory).
    #[error("encryption failed")]
    Encrypt,
}

/// Seals and opens secrets with AES-256-GCM.
#[derive(Clone)]
pub struct SecretBox {
    /// The first key seals; every key may open.
    ciphers: Vec<Aes256Gcm>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretBox")
            .field("keys", &self.ciphers.len())
            .finish_non_exhaustive()
    }
}

impl SecretBox {
    /// A box with one key.
    pub fn new(key: [u8; KEY_LEN]) -> Self {
        Self {
            ciphers: vec![cipher(&key)],
        }
    }

    /// A box from a base64 (standard alphabet, padded or not) key of 32 bytes.
    pub fn from_base64(key: &str) -> Result<Self, SecretError> {
        Ok(Self::new(decode_key(key)?))
    }

    /// A box for key rotation: seals with `current`, opens with `current` or any of
    /// `previous`.
    pub fn with_previous(
        current: [u8; KEY_LEN],
        previous: impl IntoIterator<Item = [u8; KEY_LEN]>,
    ) -> Self {
        let mut ciphers = vec![cipher(&current)];
        ciphers.extend(previous.into_iter().map(|k| cipher(&k)));
        Self { ciphers }
    }

    /// Encrypts `plaintext` under the first key with a fresh random nonce.
    pub fn seal(&self, plaintext: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self.ciphers[0]
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .map_err(|_| SecretError::Encrypt)?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(format!("{VERSION_PREFIX}{}", STANDARD.encode(out)))
    }

    /// Decrypts a value made by [`SecretBox::seal`] with any of the keys.
    pub fn open(&self, sealed: &str) -> Result<String, SecretError> {
        let encoded = sealed
            .strip_prefix(VERSION_PREFIX)
            .ok_or(SecretError::Malformed("missing `v1:` prefix"))?;
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::Malformed("not base64"))?;
        // nonce + 16-byte tag at least
        if bytes.len() < NONCE_LEN + 16 {
            return Err(SecretError::Malformed("too short"));
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = self
            .ciphers
            .iter()
            .find_map(|c| c.decrypt(Nonce::from_slice(nonce), ciphertext).ok())
            .ok_or(SecretError::Decrypt)?;
        String::from_utf8(plain).map_err(|_| SecretError::NotUtf8)
    }
}

fn cipher(key: &[u8; KEY_LEN]) -> Aes256Gcm {
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key))
}

/// Decodes a base64 key of exactly 32 bytes.
pub fn decode_key(key: &str) -> Result<[u8; KEY_LEN], SecretError> {
    let key = key.trim();
    let bytes = STANDARD
        .decode(key)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(key))
        .map_err(|_| SecretError::InvalidKey("not valid base64".into()))?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| SecretError::InvalidKey(format!("decoded to {} bytes", bytes.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> [u8; KEY_LEN] {
        [b; KEY_LEN]
    }

    #[test]
    fn round_trip() {
        let b = SecretBox::new(key(1));
        let sealed = b.seal("pat-na1-secret").expect("seal");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("pat-na1-secret"));
        assert_eq!(b.open(&sealed).expect("open"), "pat-na1-secret");
        // random nonce: two seals differ
        assert_ne!(sealed, b.seal("pat-na1-secret").expect("seal"));
        assert_eq!(b.open(&b.seal("").expect("seal")).expect("open"), "");
    }

    #[test]
    fn tampering_is_detected() {
        let b = SecretBox::new(key(2));
        let sealed = b.seal("hello").expect("seal");
        let mut bytes = STANDARD.decode(&sealed[3..]).expect("b64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = format!("v1:{}", STANDARD.encode(&bytes));
        assert_eq!(b.open(&tampered), Err(SecretError::Decrypt));
        assert!(matches!(b.open("hello"), Err(SecretError::Malformed(_))));
        assert!(matches!(b.open("v1:!!"), Err(SecretError::Malformed(_))));
        assert!(matches!(b.open("v1:AAAA"), Err(SecretError::Malformed(_))));
    }

    #[test]
    fn wrong_key_fails() {
        let sealed = SecretBox::new(key(3)).seal("x").expect("seal");
        assert_eq!(
            SecretBox::new(key(4)).open(&sealed),
            Err(SecretError::Decrypt)
        );
    }

    #[test]
    fn rotation_opens_with_any_and_seals_with_first() {
        let old = SecretBox::new(key(5));
        let old_sealed = old.seal("old").expect("seal");
        let rotated = SecretBox::with_previous(key(6), [key(5)]);
        assert_eq!(rotated.open(&old_sealed).expect("open"), "old");
        let new_sealed = rotated.seal("new").expect("seal");
        assert_eq!(
            SecretBox::new(key(6)).open(&new_sealed).expect("open"),
            "new"
        );
        assert_eq!(old.open(&new_sealed), Err(SecretError::Decrypt));
    }

    #[test]
    fn base64_keys() {
        let encoded = STANDARD.encode(key(7));
        let b = SecretBox::from_base64(&encoded).expect("key");
        let sealed = b.seal("s").expect("seal");
        assert_eq!(SecretBox::new(key(7)).open(&sealed).expect("open"), "s");
        assert!(matches!(
            SecretBox::from_base64("c2hvcnQ="),
            Err(SecretError::InvalidKey(_))
        ));
        assert!(matches!(
            SecretBox::from_base64("not base64!"),
            Err(SecretError::InvalidKey(_))
        ));
    }
}
