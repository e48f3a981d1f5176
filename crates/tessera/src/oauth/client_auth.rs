//! Client authentication with a shared secret (`client_secret_basic` / `client_secret_post`).

use secrecy::SecretString;

use super::OAuthError;
use crate::{secret::SecretHasher, store::Client, store::cache::RealmState};

/// Finds the client and checks its secret (or, failing that, `alternative`: another reading of
/// the same credentials). Unknown, disabled and wrong-secret cases cost the same and answer the
/// same, so client ids cannot be probed.
pub fn authenticate<'r>(
    realm: &'r RealmState,
    hasher: &SecretHasher,
    client_id: &str,
    secret: Option<&SecretString>,
    alternative: Option<&SecretString>,
) -> Result<&'r Client, OAuthError> {
    let client = realm.client(client_id);
    let Some(secret) = secret else {
        return Err(OAuthError::bad_client_credentials());
    };
    let stored = client.and_then(|c| c.secret_hash.as_deref());
    // Both readings are always checked, so timing does not depend on which one matches.
    let verified =
        hasher.verify(secret, stored) | alternative.is_some_and(|alt| hasher.verify(alt, stored));
    match client {
        Some(client) if verified && client.enabled => Ok(client),
        _ => Err(OAuthError::bad_client_credentials()),
    }
}
