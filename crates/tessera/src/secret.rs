//! Client secrets: generation, validation of imported ones, and the keyed hash they are stored as.
//!
//! Secrets are high-entropy, so a keyed HMAC-SHA256 protects them at rest without a slow password
//! hash on the token path (which would also make the endpoint a CPU exhaustion target).

use aws_lc_rs::{hmac, rand};
use secrecy::{ExposeSecret, SecretBox, SecretString};

/// 43 characters from a 62-letter alphabet carry 256 bits.
pub const GENERATED_SECRET_LEN: usize = 43;
/// Imported secrets (teams migrating from Keycloak keep theirs) must be at least this long.
pub const MIN_IMPORTED_SECRET_LEN: usize = 16;
/// Length of the server-wide HMAC key.
pub const HASH_KEY_LEN: usize = 32;

const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the system random generator failed")]
    Random,
    #[error("a client secret must be at least {MIN_IMPORTED_SECRET_LEN} characters long")]
    TooShort,
    #[error(
        "a client secret must consist of visible ASCII characters (no spaces or control characters)"
    )]
    InvalidCharacters,
}

/// A new secret of letters and digits only, so raw and form-encoded HTTP Basic agree on it.
pub fn generate() -> Result<SecretString, SecretError> {
    let mut secret = String::with_capacity(GENERATED_SECRET_LEN);
    let mut buf = [0u8; 64];
    while secret.len() < GENERATED_SECRET_LEN {
        rand::fill(&mut buf).map_err(|_| SecretError::Random)?;
        // Rejection sampling: 248 = 4 * 62 keeps every letter equally likely.
        for &byte in buf.iter().filter(|&&b| b < 248) {
            if secret.len() == GENERATED_SECRET_LEN {
                break;
            }
            secret.push(char::from(ALPHABET[usize::from(byte % 62)]));
        }
    }
    Ok(SecretString::from(secret))
}

/// Checks a secret supplied by an operator instead of a generated one.
pub fn validate_imported(secret: &str) -> Result<(), SecretError> {
    if secret.chars().count() < MIN_IMPORTED_SECRET_LEN {
        return Err(SecretError::TooShort);
    }
    if !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SecretError::InvalidCharacters);
    }
    Ok(())
}

/// A fresh random key for [`SecretHasher`].
pub fn generate_hash_key() -> Result<SecretBox<[u8]>, SecretError> {
    let mut key = vec![0u8; HASH_KEY_LEN];
    rand::fill(&mut key).map_err(|_| SecretError::Random)?;
    Ok(SecretBox::new(key.into_boxed_slice()))
}

/// Hashes and verifies client secrets with the server-wide HMAC key.
pub struct SecretHasher {
    key: hmac::Key,
    /// Compared against when the client is unknown, so both paths cost the same.
    decoy: hmac::Tag,
}

impl SecretHasher {
    pub fn new(key: &SecretBox<[u8]>) -> Self {
        let key = hmac::Key::new(hmac::HMAC_SHA256, key.expose_secret());
        let decoy = hmac::sign(&key, b"tessera decoy secret");
        SecretHasher { key, decoy }
    }

    pub fn hash(&self, secret: &SecretString) -> Vec<u8> {
        hmac::sign(&self.key, secret.expose_secret().as_bytes())
            .as_ref()
            .to_vec()
    }

    /// Constant-time check of `presented` against a stored hash. With `stored = None` (unknown
    /// client) it does the same work and returns false, so ids cannot be probed by timing.
    pub fn verify(&self, presented: &SecretString, stored: Option<&[u8]>) -> bool {
        let tag = stored.unwrap_or(self.decoy.as_ref());
        let matches = hmac::verify(&self.key, presented.expose_secret().as_bytes(), tag).is_ok();
        matches && stored.is_some()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_secrets_are_long_alphanumeric_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.expose_secret().len(), GENERATED_SECRET_LEN);
        assert!(a.expose_secret().bytes().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn verify_accepts_only_the_hashed_secret() {
        let hasher = SecretHasher::new(&generate_hash_key().unwrap());
        let secret = generate().unwrap();
        let stored = hasher.hash(&secret);
        assert!(hasher.verify(&secret, Some(&stored)));
        assert!(!hasher.verify(&SecretString::from("wrong"), Some(&stored)));
        assert!(!hasher.verify(&secret, None));
    }

    #[test]
    fn short_or_spaced_imported_secrets_are_rejected() {
        assert!(validate_imported("short").is_err());
        assert!(validate_imported("has a space in it, long").is_err());
        assert!(validate_imported("0123456789abcdef").is_ok());
    }
}
