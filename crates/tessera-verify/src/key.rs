//! Public keys that verify signatures (service-account keys), parsed once.

use aws_lc_rs::{
    encoding::{AsDer, PublicKeyX509Der},
    rsa::PublicKeyComponents,
    signature::{
        ECDSA_P256_SHA256_FIXED, ED25519, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256,
        VerificationAlgorithm,
    },
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use crate::{JwkParams, SigningAlg, pem};

#[derive(Debug, thiserror::Error)]
pub enum PublicKeyError {
    #[error("not a PEM public key or a JWK")]
    Format,
    #[error("the key is not an RSA (2048 bits or more), P-256 or Ed25519 public key")]
    Unsupported,
    #[error("the key does not fit algorithm {0}")]
    WrongAlgorithm(SigningAlg),
}

/// A public key bound to the one algorithm it verifies.
pub struct VerifyingKey {
    alg: SigningAlg,
    parsed: ParsedPublicKey,
}

impl std::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn algorithm(alg: SigningAlg) -> &'static dyn VerificationAlgorithm {
    match alg {
        SigningAlg::RS256 => &RSA_PKCS1_2048_8192_SHA256,
        SigningAlg::ES256 => &ECDSA_P256_SHA256_FIXED,
        SigningAlg::EdDSA => &ED25519,
    }
}

impl VerifyingKey {
    /// From X.509 SubjectPublicKeyInfo DER, as stored.
    pub fn from_spki_der(alg: SigningAlg, der: &[u8]) -> Result<Self, PublicKeyError> {
        let parsed = ParsedPublicKey::new(algorithm(alg), der)
            .map_err(|_| PublicKeyError::WrongAlgorithm(alg))?;
        Ok(VerifyingKey { alg, parsed })
    }

    /// From a PEM `PUBLIC KEY` or a JWK (JSON), as a user supplies it. The algorithm is the
    /// JWK's `alg` or `expected`, else follows from the key type (RSA keys verify RS256).
    pub fn from_user_input(
        text: &str,
        expected: Option<SigningAlg>,
    ) -> Result<Self, PublicKeyError> {
        if let Some((label, der)) = pem::decode(text) {
            if label != "PUBLIC KEY" {
                return Err(PublicKeyError::Format);
            }
            return Self::from_spki_der_any(&der, expected);
        }
        let jwk: serde_json::Value =
            serde_json::from_str(text).map_err(|_| PublicKeyError::Format)?;
        Self::from_jwk(&jwk, expected)
    }

    fn from_spki_der_any(der: &[u8], expected: Option<SigningAlg>) -> Result<Self, PublicKeyError> {
        match expected {
            Some(alg) => Self::from_spki_der(alg, der),
            None => SigningAlg::ALL
                .into_iter()
                .find_map(|alg| Self::from_spki_der(alg, der).ok())
                .ok_or(PublicKeyError::Unsupported),
        }
    }

    pub fn from_jwk(
        jwk: &serde_json::Value,
        expected: Option<SigningAlg>,
    ) -> Result<Self, PublicKeyError> {
        let params: JwkParams =
            serde_json::from_value(jwk.clone()).map_err(|_| PublicKeyError::Format)?;
        if jwk.get("d").is_some() {
            // A private JWK was given where a public one belongs.
            return Err(PublicKeyError::Format);
        }
        let declared = match jwk.get("alg").and_then(|a| a.as_str()) {
            Some(alg) => Some(
                alg.parse::<SigningAlg>()
                    .map_err(|_| PublicKeyError::Unsupported)?,
            ),
            None => None,
        };
        let decode = |s: &str| {
            URL_SAFE_NO_PAD
                .decode(s)
                .map_err(|_| PublicKeyError::Format)
        };
        let (alg, parsed) = match params {
            JwkParams::Rsa { n, e } => {
                let components = PublicKeyComponents {
                    n: decode(&n)?,
                    e: decode(&e)?,
                };
                let parsed = components
                    .to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256)
                    .map_err(|_| PublicKeyError::Unsupported)?;
                (SigningAlg::RS256, parsed)
            }
            JwkParams::Ec { crv, x, y } if crv == "P-256" => {
                let point = [&[0x04][..], &decode(&x)?, &decode(&y)?].concat();
                let parsed = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                    .map_err(|_| PublicKeyError::Unsupported)?;
                (SigningAlg::ES256, parsed)
            }
            JwkParams::Okp { crv, x } if crv == "Ed25519" => {
                let parsed = ParsedPublicKey::new(&ED25519, decode(&x)?)
                    .map_err(|_| PublicKeyError::Unsupported)?;
                (SigningAlg::EdDSA, parsed)
            }
            _ => return Err(PublicKeyError::Unsupported),
        };
        for wanted in [declared, expected].into_iter().flatten() {
            if wanted != alg {
                return Err(PublicKeyError::WrongAlgorithm(wanted));
            }
        }
        Ok(VerifyingKey { alg, parsed })
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    /// X.509 SubjectPublicKeyInfo DER: the stored form.
    pub fn spki_der(&self) -> Vec<u8> {
        AsDer::<PublicKeyX509Der>::as_der(&self.parsed)
            .map(|der| der.as_ref().to_vec())
            .unwrap_or_default()
    }

    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.parsed.verify_sig(message, signature).is_ok()
    }
}
