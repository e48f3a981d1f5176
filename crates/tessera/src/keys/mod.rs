//! Realm signing keys: generation and parsing (once, at cache load). The public side (JWKs,
//! verifying keys, JWS) is shared with resource servers through `tessera-verify`.

mod signing;

pub use signing::{KeyError, SigningKey, generate_pkcs8};
pub use tessera_verify::{
    Jwk, JwkParams, JwkSet, Jws, JwsError, PublicKeyError, SigningAlg, VerifyingKey, pem,
};
