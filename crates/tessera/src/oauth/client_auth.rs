//! Client authentication with a shared secret (`client_secret_basic` / `client_secret_post`).

use secrecy::SecretString;

use super::OAuthError;
use crate::{secret::SecretHasher, store::Client, store::cache::RealmState};

/// What the caller presented, already taken out of its transport (Basic header or body).
#[derive(Debug)]
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<SecretString>,
}

/// Finds the client and checks its secret. Unknown, disabled and wrong-secret cases cost the same
/// and answer the same, so client ids cannot be probed.
pub fn authenticate<'r>(
    realm: &'r RealmState,
    hasher: &SecretHasher,
    credentials: &ClientCredentials,
) -> Result<&'r Client, OAuthError> {
    let client = realm.client(&credentials.client_id);
    let Some(secret) = &credentials.secret else {
        return Err(OAuthError::bad_client_credentials());
    };
    let verified = hasher.verify(secret, client.map(|c| c.secret_hash.as_slice()));
    match client {
        Some(client) if verified && client.enabled => Ok(client),
        _ => Err(OAuthError::bad_client_credentials()),
    }
}
