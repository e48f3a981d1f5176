use aws_lc_rs::{
    encoding::{AsDer, PublicKeyX509Der},
    rand::SystemRandom,
    rsa::{KeySize, PublicKeyComponents},
    signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
        RSA_PKCS1_SHA256, RsaKeyPair,
    },
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretBox};

use super::{Jwk, JwkParams, SigningAlg, VerifyingKey};

/// RFC 8725 3.5: RSA keys below 2048 bits are not accepted.
const MIN_RSA_BITS: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("could not generate a {0} key")]
    Generate(SigningAlg),
    #[error("stored {alg} key {kid} is not a valid PKCS#8 key of that type")]
    Parse { kid: String, alg: SigningAlg },
    #[error("RSA key {0} is shorter than 2048 bits")]
    TooShort(String),
    #[error("signing with key {0} failed")]
    Sign(String),
}

enum KeyPair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A private key parsed once and ready to sign JWTs, with its precomputed JOSE header.
pub struct SigningKey {
    kid: String,
    alg: SigningAlg,
    pair: KeyPair,
    public_jwk: Jwk,
    /// The public half, to check tokens this key signed (introspection, revocation).
    verifying_key: VerifyingKey,
    jwt_header_b64: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// Generates a new private key for `alg` and returns it as PKCS#8 DER with its `kid`
/// (the RFC 7638 thumbprint of the public key).
pub fn generate_pkcs8(alg: SigningAlg) -> Result<(String, SecretBox<[u8]>), KeyError> {
    let err = |_| KeyError::Generate(alg);
    let pkcs8: Vec<u8> = match alg {
        SigningAlg::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .and_then(|pair| pair.as_der())
            .map_err(err)?
            .as_ref()
            .to_vec(),
        SigningAlg::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .and_then(|pair| pair.to_pkcs8v1())
            .map_err(err)?
            .as_ref()
            .to_vec(),
        SigningAlg::EdDSA => Ed25519KeyPair::generate()
            .and_then(|pair| pair.to_pkcs8())
            .map_err(err)?
            .as_ref()
            .to_vec(),
    };
    let pkcs8 = SecretBox::new(pkcs8.into_boxed_slice());
    let kid = SigningKey::from_pkcs8(String::new(), alg, pkcs8.expose_secret())
        .map_err(|_| KeyError::Generate(alg))?
        .public_jwk
        .params
        .thumbprint();
    Ok((kid, pkcs8))
}

fn public_spki(pair: &KeyPair) -> Result<Vec<u8>, aws_lc_rs::error::Unspecified> {
    let der = match pair {
        KeyPair::Rsa(pair) => AsDer::<PublicKeyX509Der>::as_der(pair.public_key()),
        KeyPair::Ec(pair) => AsDer::<PublicKeyX509Der>::as_der(pair.public_key()),
        KeyPair::Ed(pair) => AsDer::<PublicKeyX509Der>::as_der(pair.public_key()),
    }?;
    Ok(der.as_ref().to_vec())
}

impl SigningKey {
    pub fn from_pkcs8(kid: String, alg: SigningAlg, pkcs8: &[u8]) -> Result<Self, KeyError> {
        let parse_err = |_| KeyError::Parse {
            kid: kid.clone(),
            alg,
        };
        let (pair, params) = match alg {
            SigningAlg::RS256 => {
                let pair = RsaKeyPair::from_pkcs8(pkcs8).map_err(parse_err)?;
                if pair.public_modulus_len() * 8 < MIN_RSA_BITS {
                    return Err(KeyError::TooShort(kid));
                }
                let components = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                let params = JwkParams::Rsa {
                    n: URL_SAFE_NO_PAD.encode(&components.n),
                    e: URL_SAFE_NO_PAD.encode(&components.e),
                };
                (KeyPair::Rsa(pair), params)
            }
            SigningAlg::ES256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8)
                    .map_err(parse_err)?;
                // Uncompressed SEC1 point: 0x04 || x || y.
                let (x, y) = pair.public_key().as_ref()[1..]
                    .split_at_checked(32)
                    .ok_or_else(|| KeyError::Parse {
                        kid: kid.clone(),
                        alg,
                    })?;
                let params = JwkParams::Ec {
                    crv: "P-256".into(),
                    x: URL_SAFE_NO_PAD.encode(x),
                    y: URL_SAFE_NO_PAD.encode(y),
                };
                (KeyPair::Ec(pair), params)
            }
            SigningAlg::EdDSA => {
                let pair = Ed25519KeyPair::from_pkcs8(pkcs8).map_err(parse_err)?;
                let params = JwkParams::Okp {
                    crv: "Ed25519".into(),
                    x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
                };
                (KeyPair::Ed(pair), params)
            }
        };
        let header = format!(
            r#"{{"alg":"{}","typ":"JWT","kid":{}}}"#,
            alg.as_str(),
            serde_json::Value::from(kid.as_str())
        );
        let spki = public_spki(&pair).map_err(|_| KeyError::Parse {
            kid: kid.clone(),
            alg,
        })?;
        let verifying_key =
            VerifyingKey::from_spki_der(alg, &spki).map_err(|_| KeyError::Parse {
                kid: kid.clone(),
                alg,
            })?;
        Ok(SigningKey {
            verifying_key,
            jwt_header_b64: URL_SAFE_NO_PAD.encode(header),
            public_jwk: Jwk {
                kid: kid.clone(),
                params,
                alg: alg.as_str().into(),
                use_: "sig".into(),
            },
            kid,
            alg,
            pair,
            rng: SystemRandom::new(),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> SigningAlg {
        self.alg
    }

    pub fn public_jwk(&self) -> &Jwk {
        &self.public_jwk
    }

    /// The public half as X.509 SubjectPublicKeyInfo DER.
    pub fn public_key_spki(&self) -> Vec<u8> {
        self.verifying_key.spki_der()
    }

    /// The public half, for checking tokens this key signed.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.verifying_key
    }

    /// base64url of `{"alg":…,"typ":"JWT","kid":…}`, computed once per key.
    pub fn jwt_header_b64(&self) -> &str {
        &self.jwt_header_b64
    }

    /// The JWS signature over `message` (for ES256 the fixed-size `r || s` form JWS requires).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let failed = |_| KeyError::Sign(self.kid.clone());
        match &self.pair {
            KeyPair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
            KeyPair::Ec(pair) => Ok(pair
                .sign(&self.rng, message)
                .map_err(failed)?
                .as_ref()
                .to_vec()),
            KeyPair::Ed(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_keys_parse_and_publish_their_thumbprint_as_kid() {
        for alg in SigningAlg::ALL {
            let (kid, pkcs8) = generate_pkcs8(alg).unwrap();
            let key = SigningKey::from_pkcs8(kid.clone(), alg, pkcs8.expose_secret()).unwrap();
            assert_eq!(key.public_jwk().params.thumbprint(), kid);
            assert_eq!(key.public_jwk().alg, alg.as_str());
        }
    }

    #[test]
    fn a_key_of_another_type_is_rejected() {
        let (kid, pkcs8) = generate_pkcs8(SigningAlg::ES256).unwrap();
        assert!(SigningKey::from_pkcs8(kid, SigningAlg::RS256, pkcs8.expose_secret()).is_err());
    }
}
