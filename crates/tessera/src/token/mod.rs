//! Access tokens: their claims (shaped like Keycloak's service-account tokens) and JWT signing.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Serialize, Serializer};

use crate::keys::{KeyError, SigningKey};

/// `aud` of tokens for clients that configure none: what Keycloak puts in service-account tokens.
pub const DEFAULT_AUDIENCE: &str = "account";
/// Token lifetime when neither the client nor the realm sets one.
pub const DEFAULT_LIFETIME_SECS: u32 = 300;

/// The claims of an access token. Field order follows Keycloak's tokens.
#[derive(Debug, Serialize)]
pub struct AccessTokenClaims<'a> {
    pub exp: u64,
    pub iat: u64,
    pub jti: &'a str,
    pub iss: &'a str,
    /// A string when there is one audience, an array when there are several (as Keycloak does).
    #[serde(serialize_with = "one_or_many")]
    pub aud: &'a [&'a str],
    pub sub: &'a str,
    pub typ: &'static str,
    pub azp: &'a str,
    pub scope: &'a str,
    #[serde(rename = "clientHost")]
    pub client_host: &'a str,
    pub preferred_username: &'a str,
    #[serde(rename = "clientAddress")]
    pub client_address: &'a str,
    pub client_id: &'a str,
}

fn one_or_many<S: Serializer>(values: &&[&str], serializer: S) -> Result<S::Ok, S::Error> {
    match values {
        [one] => serializer.serialize_str(one),
        many => many.serialize(serializer),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("could not encode claims: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the system random generator failed")]
    Random,
}

/// A fresh token id: a random (version 4) UUID.
pub fn new_jti() -> Result<String, TokenError> {
    crate::random::uuid().ok_or(TokenError::Random)
}

/// Serializes `claims` and signs them with `key` into a compact JWS.
pub fn sign_jwt(key: &SigningKey, claims: &impl Serialize) -> Result<String, TokenError> {
    let payload = serde_json::to_vec(claims)?;
    let header = key.jwt_header_b64();
    let mut jwt = String::with_capacity(header.len() + payload.len() * 4 / 3 + 360);
    jwt.push_str(header);
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(&payload, &mut jwt);
    let signature = key.sign(jwt.as_bytes())?;
    jwt.push('.');
    URL_SAFE_NO_PAD.encode_string(signature, &mut jwt);
    Ok(jwt)
}
