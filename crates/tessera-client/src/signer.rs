//! Client assertions (RFC 7523) signed with the client's private key.

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    },
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tessera_verify::{SigningAlg, pem};

use crate::Error;

/// Seconds an assertion is valid for: just long enough to reach the server.
const ASSERTION_LIFETIME: u64 = 60;

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// A client's private key and the `kid` the server knows it by.
pub struct KeySigner {
    kid: String,
    pair: Pair,
    rng: SystemRandom,
}

impl std::fmt::Debug for KeySigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// Frontier's service-account credentials file, as `tessera client key create --output json`
/// prints it.
#[derive(Deserialize)]
struct CredentialsFile {
    kid: String,
    principal_id: Option<String>,
    private_key: SecretString,
}

impl KeySigner {
    /// From a PKCS#8 PEM private key; the algorithm follows from the key type.
    pub fn from_pem(kid: impl Into<String>, pem_text: &str) -> Result<Self, Error> {
        let (label, der) = pem::decode(pem_text)
            .ok_or_else(|| Error::Credentials("not a PEM private key".into()))?;
        let der = secrecy::zeroize::Zeroizing::new(der);
        if label != "PRIVATE KEY" {
            return Err(Error::Credentials(format!(
                "expected a PKCS#8 PRIVATE KEY, found {label}"
            )));
        }
        let pair = if let Ok(pair) = RsaKeyPair::from_pkcs8(&der) {
            Pair::Rsa(pair)
        } else if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der) {
            Pair::Ec(pair)
        } else if let Ok(pair) = Ed25519KeyPair::from_pkcs8(&der) {
            Pair::Ed(pair)
        } else {
            return Err(Error::Credentials(
                "the key is not RSA, P-256 or Ed25519".into(),
            ));
        };
        Ok(KeySigner {
            kid: kid.into(),
            pair,
            rng: SystemRandom::new(),
        })
    }

    /// From a credentials file (`{"kid", "principal_id", "private_key"}`); also returns the
    /// `principal_id`, which is the client id.
    pub fn from_credentials_json(json: &str) -> Result<(Self, Option<String>), Error> {
        let file: CredentialsFile = serde_json::from_str(json)
            .map_err(|e| Error::Credentials(format!("not a credentials file: {e}")))?;
        let signer = Self::from_pem(file.kid, file.private_key.expose_secret())?;
        Ok((signer, file.principal_id))
    }

    fn alg(&self) -> SigningAlg {
        match self.pair {
            Pair::Rsa(_) => SigningAlg::RS256,
            Pair::Ec(_) => SigningAlg::ES256,
            Pair::Ed(_) => SigningAlg::EdDSA,
        }
    }

    /// A fresh assertion: `iss` = `sub` = the client, `aud` the token endpoint, a new `jti`,
    /// valid for a minute. The `kid` is in the claims too, where Frontier looks for it.
    pub fn assertion(&self, client_id: &str, audience: &str, now: u64) -> Result<String, Error> {
        let mut jti = [0u8; 16];
        aws_lc_rs::rand::fill(&mut jti).map_err(|_| Error::Credentials("no randomness".into()))?;
        let header = serde_json::json!({"alg": self.alg().as_str(), "typ": "JWT", "kid": self.kid});
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
            "jti": URL_SAFE_NO_PAD.encode(jti),
            "kid": self.kid,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let failed = |_| Error::Credentials("signing failed".into());
        let signature = match &self.pair {
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &self.rng,
                    input.as_bytes(),
                    &mut signature,
                )
                .map_err(failed)?;
                signature
            }
            Pair::Ec(pair) => pair
                .sign(&self.rng, input.as_bytes())
                .map_err(failed)?
                .as_ref()
                .to_vec(),
            Pair::Ed(pair) => pair.sign(input.as_bytes()).as_ref().to_vec(),
        };
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
