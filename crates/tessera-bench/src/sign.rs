//! The raw cost of one signature: the floor a token can cost. Measured on one core with the
//! same key type and a message the size of a token's signing input.

use std::time::{Duration, Instant};

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    rsa::KeySize,
    signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
    },
};
use tessera::keys::SigningAlg;

/// A JWT signing input of a typical access token's size.
const MESSAGE: &[u8] = &[b'x'; 620];

/// Microseconds per signature for each backend that can sign `alg`.
pub fn measure(alg: SigningAlg, duration: Duration) -> Vec<(&'static str, f64)> {
    let pkcs8 = pkcs8(alg);
    let mut results = vec![("aws-lc-rs", aws_lc(alg, &pkcs8, duration))];
    #[cfg(feature = "backends")]
    {
        results.push(("ring", ring_backend(alg, &pkcs8, duration)));
        results.push(("openssl", openssl_backend(&pkcs8, duration)));
    }
    results
}

fn pkcs8(alg: SigningAlg) -> Vec<u8> {
    let der = match alg {
        SigningAlg::RS256 => RsaKeyPair::generate(KeySize::Rsa2048)
            .and_then(|k| k.as_der())
            .map(|d| d.as_ref().to_vec()),
        SigningAlg::ES256 => EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
            .and_then(|k| k.to_pkcs8v1())
            .map(|d| d.as_ref().to_vec()),
        SigningAlg::EdDSA => Ed25519KeyPair::generate()
            .and_then(|k| k.to_pkcs8v1())
            .map(|d| d.as_ref().to_vec()),
    };
    der.unwrap_or_default()
}

/// Runs `sign` repeatedly for `duration`; returns µs per call.
fn per_call(duration: Duration, mut sign: impl FnMut()) -> f64 {
    for _ in 0..10 {
        sign();
    }
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < duration {
        for _ in 0..10 {
            sign();
        }
        calls += 10;
    }
    start.elapsed().as_secs_f64() * 1e6 / calls as f64
}

fn aws_lc(alg: SigningAlg, pkcs8: &[u8], duration: Duration) -> f64 {
    let rng = SystemRandom::new();
    match alg {
        SigningAlg::RS256 => {
            let Ok(key) = RsaKeyPair::from_pkcs8(pkcs8) else {
                return f64::NAN;
            };
            let mut signature = vec![0; key.public_modulus_len()];
            per_call(duration, || {
                let _ = key.sign(&RSA_PKCS1_SHA256, &rng, MESSAGE, &mut signature);
            })
        }
        SigningAlg::ES256 => {
            let Ok(key) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8) else {
                return f64::NAN;
            };
            per_call(duration, || {
                let _ = key.sign(&rng, MESSAGE);
            })
        }
        SigningAlg::EdDSA => {
            let Ok(key) = Ed25519KeyPair::from_pkcs8(pkcs8) else {
                return f64::NAN;
            };
            per_call(duration, || {
                let _ = key.sign(MESSAGE);
            })
        }
    }
}

#[cfg(feature = "backends")]
fn ring_backend(alg: SigningAlg, pkcs8: &[u8], duration: Duration) -> f64 {
    use ring::{rand::SystemRandom, signature};
    let rng = SystemRandom::new();
    match alg {
        SigningAlg::RS256 => {
            let Ok(key) = signature::RsaKeyPair::from_pkcs8(pkcs8) else {
                return f64::NAN;
            };
            let mut sig = vec![0; key.public().modulus_len()];
            per_call(duration, || {
                let _ = key.sign(&signature::RSA_PKCS1_SHA256, &rng, MESSAGE, &mut sig);
            })
        }
        SigningAlg::ES256 => {
            let Ok(key) = signature::EcdsaKeyPair::from_pkcs8(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                pkcs8,
                &rng,
            ) else {
                return f64::NAN;
            };
            per_call(duration, || {
                let _ = key.sign(&rng, MESSAGE);
            })
        }
        SigningAlg::EdDSA => {
            // ring reads Ed25519 keys only in PKCS#8 v2; sign from the seed instead.
            let seed = pkcs8
                .get(pkcs8.len().saturating_sub(32)..)
                .unwrap_or_default();
            let Ok(key) = signature::Ed25519KeyPair::from_seed_unchecked(seed) else {
                return f64::NAN;
            };
            per_call(duration, || {
                let _ = key.sign(MESSAGE);
            })
        }
    }
}

#[cfg(feature = "backends")]
fn openssl_backend(pkcs8: &[u8], duration: Duration) -> f64 {
    use openssl::{hash::MessageDigest, pkey::PKey, sign::Signer};
    let Ok(key) = PKey::private_key_from_pkcs8(pkcs8) else {
        return f64::NAN;
    };
    let ed25519 = key.id() == openssl::pkey::Id::ED25519;
    per_call(duration, || {
        let signer = if ed25519 {
            Signer::new_without_digest(&key)
        } else {
            Signer::new(MessageDigest::sha256(), &key)
        };
        if let Ok(mut signer) = signer {
            let _ = signer.sign_oneshot_to_vec(MESSAGE);
        }
    })
}
