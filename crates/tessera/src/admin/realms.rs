use secrecy::SecretBox;

use super::{AdminError, check_lifetime, new_id};
use crate::{
    clock::Clock,
    keys::{self, SigningAlg},
    store::{Realm, RealmKey, Store},
    token::DEFAULT_LIFETIME_SECS,
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
    let key = new_signing_key(&realm, new.signing_alg, now)?;
    store.create_realm(&realm, &key).await?;
    Ok(realm)
}

/// Makes a new key the realm's active signing key (with `alg`, if given, as the realm's new
/// algorithm). The previous key stays published until every token it signed has expired, so
/// verifiers never see a gap. Returns the new key's kid.
pub async fn rotate_realm_key(
    store: &dyn Store,
    clock: &dyn Clock,
    name: &str,
    alg: Option<SigningAlg>,
) -> Result<String, AdminError> {
    let mut realm = find_realm(store, name).await?;
    let now = clock.now();
    if let Some(alg) = alg {
        realm.signing_alg = alg;
        store.update_realm(&realm).await?;
    }
    // The longest-lived token the old key may have signed, plus verifiers' usual leeway.
    let longest = store
        .clients(&realm.id)
        .await?
        .iter()
        .filter_map(|c| c.token_lifetime)
        .chain([realm.token_lifetime.unwrap_or(DEFAULT_LIFETIME_SECS)])
        .max()
        .unwrap_or(DEFAULT_LIFETIME_SECS);
    let publish_until = now + u64::from(longest) + VERIFIER_LEEWAY_SECS;
    let key = new_signing_key(&realm, realm.signing_alg, now)?;
    store.rotate_realm_key(&key, publish_until).await?;
    Ok(key.kid)
}

/// Verifiers commonly accept tokens this long past `exp`.
const VERIFIER_LEEWAY_SECS: u64 = 60;

fn new_signing_key(realm: &Realm, alg: SigningAlg, now: u64) -> Result<RealmKey, AdminError> {
    let (kid, private_key): (String, SecretBox<[u8]>) = keys::generate_pkcs8(alg)?;
    Ok(RealmKey {
        kid,
        realm_id: realm.id.clone(),
        alg,
        private_key,
        active: true,
        publish_until: None,
        created_at: now,
    })
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
