use secrecy::SecretBox;

use super::{AdminError, check_lifetime, new_id};
use crate::{
    clock::Clock,
    keys::{self, SigningAlg},
    store::{Realm, RealmKey, Store},
};

pub struct NewRealm {
    pub name: String,
    pub token_lifetime: Option<u32>,
    pub signing_alg: SigningAlg,
    pub strict_assertions: bool,
}

/// Settings to change on an existing realm; `None` leaves one as it is.
#[derive(Default)]
pub struct RealmChanges {
    pub token_lifetime: Option<u32>,
    pub strict_assertions: Option<bool>,
}

/// Creates a realm with a freshly generated active signing key.
pub async fn create_realm(
    store: &dyn Store,
    clock: &dyn Clock,
    new: NewRealm,
) -> Result<Realm, AdminError> {
    check_realm_name(&new.name)?;
    check_lifetime(new.token_lifetime)?;
    let now = clock.now();
    let realm = Realm {
        id: new_id()?,
        name: new.name,
        token_lifetime: new.token_lifetime,
        signing_alg: new.signing_alg,
        strict_assertions: new.strict_assertions,
        created_at: now,
    };
    let (kid, private_key): (String, SecretBox<[u8]>) = keys::generate_pkcs8(new.signing_alg)?;
    let key = RealmKey {
        kid,
        realm_id: realm.id.clone(),
        alg: new.signing_alg,
        private_key,
        active: true,
        created_at: now,
    };
    store.create_realm(&realm, &key).await?;
    Ok(realm)
}

/// Applies `changes` to the realm called `name` and returns it as saved.
pub async fn update_realm(
    store: &dyn Store,
    name: &str,
    changes: RealmChanges,
) -> Result<Realm, AdminError> {
    check_lifetime(changes.token_lifetime)?;
    let mut realm = find_realm(store, name).await?;
    if let Some(lifetime) = changes.token_lifetime {
        realm.token_lifetime = Some(lifetime);
    }
    if let Some(strict) = changes.strict_assertions {
        realm.strict_assertions = strict;
    }
    store.update_realm(&realm).await?;
    Ok(realm)
}

/// The realm called `name`, or an error that says how to list them.
pub async fn find_realm(store: &dyn Store, name: &str) -> Result<Realm, AdminError> {
    store.realm(name).await?.ok_or_else(|| {
        AdminError::Invalid(format!(
            "realm '{name}' does not exist (see `tessera realm list`)"
        ))
    })
}

/// Realm names appear in URLs and in `WWW-Authenticate`, so they are kept URL-safe.
fn check_realm_name(name: &str) -> Result<(), AdminError> {
    let valid = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!(
            "invalid realm name '{name}': use 1 to 64 letters, digits, '-', '_' or '.'"
        )))
    }
}
