//! Service-account keys: key pairs made here (the private half shown once) or public keys a
//! user registers.

use secrecy::{ExposeSecret, SecretString};

use super::{AdminError, find_client, new_id};
use crate::{
    clock::Clock,
    keys::{self, SigningAlg, SigningKey, VerifyingKey, pem},
    store::{ClientKey, Realm, Store},
};

/// A key pair made for a client. Only the public half is stored.
pub struct GeneratedKey {
    pub kid: String,
    pub alg: SigningAlg,
    /// PKCS#8 PEM (`PRIVATE KEY`).
    pub private_key_pem: SecretString,
}

/// Makes a key pair for `client_id`, stores its public key under a new random `kid`, and returns
/// the private key, which exists nowhere else afterwards.
pub async fn create_client_key(
    store: &dyn Store,
    clock: &dyn Clock,
    realm: &Realm,
    client_id: &str,
    alg: SigningAlg,
) -> Result<GeneratedKey, AdminError> {
    let client = find_client(store, realm, client_id).await?;
    let (_, pkcs8) = keys::generate_pkcs8(alg)?;
    let kid = new_id()?;
    let pair = SigningKey::from_pkcs8(kid.clone(), alg, pkcs8.expose_secret())?;
    let key = ClientKey {
        kid: kid.clone(),
        realm_id: realm.id.clone(),
        owner_id: client.id,
        alg,
        public_key: pair.public_key_spki(),
        created_at: clock.now(),
    };
    store.add_client_key(&key).await?;
    Ok(GeneratedKey {
        kid,
        alg,
        private_key_pem: SecretString::from(pem::encode("PRIVATE KEY", pkcs8.expose_secret())),
    })
}

/// Registers a public key (PEM `PUBLIC KEY` or JWK) the user made. Its `kid` is the JWK's, else
/// `kid`, else a new random one. Returns the kid and algorithm.
pub async fn add_client_key(
    store: &dyn Store,
    clock: &dyn Clock,
    realm: &Realm,
    client_id: &str,
    public_key: &str,
    alg: Option<SigningAlg>,
    kid: Option<String>,
) -> Result<(String, SigningAlg), AdminError> {
    let client = find_client(store, realm, client_id).await?;
    let verifying = VerifyingKey::from_user_input(public_key, alg)?;
    let jwk_kid = serde_json::from_str::<serde_json::Value>(public_key)
        .ok()
        .and_then(|jwk| jwk.get("kid")?.as_str().map(str::to_owned));
    let kid = match kid.or(jwk_kid) {
        Some(kid) => check_kid(kid)?,
        None => new_id()?,
    };
    let key = ClientKey {
        kid: kid.clone(),
        realm_id: realm.id.clone(),
        owner_id: client.id,
        alg: verifying.alg(),
        public_key: verifying.spki_der(),
        created_at: clock.now(),
    };
    store.add_client_key(&key).await?;
    Ok((kid, verifying.alg()))
}

fn check_kid(kid: String) -> Result<String, AdminError> {
    if (1..=128).contains(&kid.len()) && kid.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(kid)
    } else {
        Err(AdminError::Invalid(format!(
            "invalid kid '{kid}': use 1 to 128 visible ASCII characters"
        )))
    }
}
