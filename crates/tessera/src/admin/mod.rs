//! Administrative operations on realms and clients, with their validation rules. The CLI calls
//! these (and so will an admin API); they write through the `Store` and never touch HTTP.

mod client_keys;
mod clients;
mod realms;

pub use client_keys::{GeneratedKey, add_client_key, create_client_key};
pub use clients::{
    NewClient, SecretSource, create_client, create_clients, find_client, revoke_client_tokens,
    rotate_secret,
};
pub use realms::{
    NewRealm, RealmChanges, create_realm, find_realm, rotate_realm_key, update_realm,
};

use crate::{
    keys::{KeyError, PublicKeyError},
    secret::SecretError,
    store::StoreError,
};

/// Longest token lifetime a realm or client may set: 30 days.
pub const MAX_TOKEN_LIFETIME_SECS: u32 = 30 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("unusable public key: {0}")]
    PublicKey(#[from] PublicKeyError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

fn check_lifetime(lifetime: Option<u32>) -> Result<(), AdminError> {
    match lifetime {
        Some(secs) if secs == 0 || secs > MAX_TOKEN_LIFETIME_SECS => Err(AdminError::Invalid(
            format!("token lifetime must be between 1 and {MAX_TOKEN_LIFETIME_SECS} seconds"),
        )),
        _ => Ok(()),
    }
}

fn new_id() -> Result<String, AdminError> {
    crate::random::uuid().ok_or(AdminError::Secret(SecretError::Random))
}
