//! Reading compact JWS (RFC 7515) as received: assertions signed by clients.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;

use crate::VerifyingKey;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    #[error("not a compact JWS (three base64url parts)")]
    Malformed,
    #[error("unsigned JWTs (alg none) are not accepted")]
    Unsigned,
    #[error("critical header parameters are not supported")]
    Critical,
    #[error("signed with {found}, but the key is for {expected}")]
    AlgorithmMismatch {
        found: String,
        expected: &'static str,
    },
    #[error("the signature does not verify")]
    BadSignature,
}

#[derive(Debug, Deserialize)]
pub struct JwsHeader {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

/// A parsed but not yet verified JWS. `Debug` shows only the header.
pub struct Jws<'a> {
    pub header: JwsHeader,
    pub payload: Vec<u8>,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl std::fmt::Debug for Jws<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jws")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl<'a> Jws<'a> {
    pub fn parse(compact: &'a str) -> Result<Self, JwsError> {
        let (signing_input, signature) = compact.rsplit_once('.').ok_or(JwsError::Malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or(JwsError::Malformed)?;
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| JwsError::Malformed)
        };
        let header: JwsHeader =
            serde_json::from_slice(&decode(header)?).map_err(|_| JwsError::Malformed)?;
        if header.alg.eq_ignore_ascii_case("none") {
            return Err(JwsError::Unsigned);
        }
        if header.crit.is_some() {
            return Err(JwsError::Critical);
        }
        Ok(Jws {
            header,
            payload: decode(payload)?,
            signing_input,
            signature: decode(signature)?,
        })
    }

    /// Verifies with `key`; the algorithm is the key's, and the header must name exactly it
    /// (so an HMAC "signature" made with a public key never reaches a verifier).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), JwsError> {
        let expected = key.alg().as_str();
        if self.header.alg != expected {
            // The name comes from the sender: shown only if it looks like an algorithm name.
            let plausible = self.header.alg.len() <= 16
                && self.header.alg.bytes().all(|b| b.is_ascii_alphanumeric());
            return Err(JwsError::AlgorithmMismatch {
                found: if plausible {
                    self.header.alg.clone()
                } else {
                    "another algorithm".into()
                },
                expected,
            });
        }
        if key.verify(self.signing_input.as_bytes(), &self.signature) {
            Ok(())
        } else {
            Err(JwsError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use aws_lc_rs::{
        encoding::{AsDer, PublicKeyX509Der},
        signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair},
    };

    use super::*;
    use crate::SigningAlg;

    /// A compact JWS over `{"sub":"svc"}` and the key that verifies it.
    fn signed(alg: SigningAlg) -> (String, VerifyingKey) {
        let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}"}}"#));
        let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(r#"{"sub":"svc"}"#));
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let (signature, spki) = match alg {
            SigningAlg::ES256 => {
                let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
                let sig = pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec();
                (
                    sig,
                    AsDer::<PublicKeyX509Der>::as_der(pair.public_key()).unwrap(),
                )
            }
            _ => {
                let pair = Ed25519KeyPair::generate().unwrap();
                let sig = pair.sign(input.as_bytes()).as_ref().to_vec();
                (
                    sig,
                    AsDer::<PublicKeyX509Der>::as_der(pair.public_key()).unwrap(),
                )
            }
        };
        let key = VerifyingKey::from_spki_der(alg, spki.as_ref()).unwrap();
        (
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)),
            key,
        )
    }

    #[test]
    fn verifies_signatures_and_rejects_tampering() {
        for alg in [SigningAlg::ES256, SigningAlg::EdDSA] {
            let (jwt, public) = signed(alg);
            let jws = Jws::parse(&jwt).unwrap();
            assert!(jws.verify(&public).is_ok());
            assert_eq!(jws.payload, br#"{"sub":"svc"}"#);
            let (head, _) = jwt.split_once('.').unwrap();
            let other = format!("{head}.{}", &jwt[jwt.find('.').unwrap() + 2..]);
            assert!(Jws::parse(&other).and_then(|j| j.verify(&public)).is_err());
        }
    }

    #[test]
    fn the_key_decides_the_algorithm() {
        let (jwt, _) = signed(SigningAlg::ES256);
        let (_, ed) = signed(SigningAlg::EdDSA);
        let err = Jws::parse(&jwt).unwrap().verify(&ed).unwrap_err();
        assert!(matches!(err, JwsError::AlgorithmMismatch { .. }));
    }

    #[test]
    fn none_and_garbage_are_refused() {
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert_eq!(Jws::parse(&none).unwrap_err(), JwsError::Unsigned);
        assert_eq!(Jws::parse("a.b").unwrap_err(), JwsError::Malformed);
        assert_eq!(Jws::parse("!!.!!.!!").unwrap_err(), JwsError::Malformed);
    }
}
