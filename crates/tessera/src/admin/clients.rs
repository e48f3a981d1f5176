use secrecy::SecretString;

use super::{AdminError, check_lifetime, new_id};
use crate::{
    clock::Clock,
    oauth::{GrantType, scope},
    secret::{self, SecretHasher},
    store::{Client, Realm, Store},
};

pub struct NewClient {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub default_scopes: Vec<String>,
    pub audience: Vec<String>,
    pub token_lifetime: Option<u32>,
    /// Empty means every grant Tessera supports.
    pub grant_types: Vec<GrantType>,
}

/// Where a client's secret comes from.
pub enum SecretSource {
    /// A new random secret, returned to be shown once.
    Generate,
    /// An existing secret the operator keeps (for example one deployed with Keycloak).
    Supplied(SecretString),
    /// No secret: the client authenticates with its keys only.
    None,
}

impl SecretSource {
    /// The hash to store, and the secret to show (only when generated).
    fn resolve(
        self,
        hasher: &SecretHasher,
    ) -> Result<(Option<Vec<u8>>, Option<SecretString>), AdminError> {
        match self {
            SecretSource::Generate => {
                let secret = secret::generate()?;
                Ok((Some(hasher.hash(&secret)), Some(secret)))
            }
            SecretSource::Supplied(secret) => {
                secret::validate_imported(secrecy::ExposeSecret::expose_secret(&secret))?;
                Ok((Some(hasher.hash(&secret)), None))
            }
            SecretSource::None => Ok((None, None)),
        }
    }
}

/// Creates a confidential client. Returns the generated secret, if one was generated: it exists
/// nowhere else afterwards.
pub async fn create_client(
    store: &dyn Store,
    hasher: &SecretHasher,
    clock: &dyn Clock,
    realm: &Realm,
    new: NewClient,
    secret: SecretSource,
) -> Result<Option<SecretString>, AdminError> {
    let (client, shown) = build_client(hasher, clock, realm, new, secret)?;
    store.create_client(&client).await?;
    Ok(shown)
}

/// Creates many clients with generated secrets at once (one transaction); returns the secrets
/// in order.
pub async fn create_clients(
    store: &dyn Store,
    hasher: &SecretHasher,
    clock: &dyn Clock,
    realm: &Realm,
    new: Vec<NewClient>,
) -> Result<Vec<SecretString>, AdminError> {
    let mut clients = Vec::with_capacity(new.len());
    let mut secrets = Vec::with_capacity(new.len());
    for new in new {
        let (client, shown) = build_client(hasher, clock, realm, new, SecretSource::Generate)?;
        clients.push(client);
        secrets.extend(shown);
    }
    store.import_clients(&clients).await?;
    Ok(secrets)
}

/// A validated client record, and its secret if one was generated.
fn build_client(
    hasher: &SecretHasher,
    clock: &dyn Clock,
    realm: &Realm,
    new: NewClient,
    secret: SecretSource,
) -> Result<(Client, Option<SecretString>), AdminError> {
    check_client_id(&new.client_id)?;
    check_lifetime(new.token_lifetime)?;
    for pattern in &new.scopes {
        check_scope(pattern, true)?;
    }
    for scope in &new.default_scopes {
        check_scope(scope, false)?;
    }
    for audience in &new.audience {
        if audience.is_empty() || audience.chars().any(char::is_control) {
            return Err(AdminError::Invalid(format!(
                "invalid audience '{audience}'"
            )));
        }
    }
    let (secret_hash, shown) = secret.resolve(hasher)?;
    let mut grant_types = new.grant_types;
    if grant_types.is_empty() {
        grant_types = GrantType::ALL.to_vec();
    }
    grant_types.dedup();
    let client = Client {
        id: new_id()?,
        realm_id: realm.id.clone(),
        client_id: new.client_id,
        secret_hash,
        enabled: true,
        scopes: new.scopes,
        default_scopes: new.default_scopes,
        grant_types,
        audience: new.audience,
        token_lifetime: new.token_lifetime,
        not_before: 0,
        created_at: clock.now(),
    };
    Ok((client, shown))
}

/// Replaces a client's secret; the old one stops working at once.
pub async fn rotate_secret(
    store: &dyn Store,
    hasher: &SecretHasher,
    realm: &Realm,
    client_id: &str,
    secret: SecretSource,
) -> Result<Option<SecretString>, AdminError> {
    let (secret_hash, shown) = secret.resolve(hasher)?;
    store
        .set_client_secret_hash(
            &realm.id,
            client_id,
            secret_hash.as_deref().unwrap_or_default(),
        )
        .await?;
    Ok(shown)
}

/// Revokes every token issued to the client so far. Tokens issued from now on carry an `iat`
/// at or after the cut-off (see `oauth::TokenService`), so they are not caught by it.
pub async fn revoke_client_tokens(
    store: &dyn Store,
    clock: &dyn Clock,
    realm: &Realm,
    client_id: &str,
) -> Result<(), AdminError> {
    // `iat` has one-second resolution: the cut-off is the next second, so tokens issued earlier
    // in this second are revoked too.
    let not_before = clock.now() + 1;
    store
        .set_client_not_before(&realm.id, client_id, not_before)
        .await?;
    Ok(())
}

/// The client `client_id` of `realm`, or an error that says how to list them.
pub async fn find_client(
    store: &dyn Store,
    realm: &Realm,
    client_id: &str,
) -> Result<Client, AdminError> {
    store.client(&realm.id, client_id).await?.ok_or_else(|| {
        AdminError::Invalid(format!(
            "client '{client_id}' does not exist in realm '{}' (see `tessera client list`)",
            realm.name
        ))
    })
}

/// Visible ASCII, at most 255 characters.
fn check_client_id(client_id: &str) -> Result<(), AdminError> {
    if (1..=255).contains(&client_id.len()) && client_id.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!(
            "invalid client id '{client_id}': use 1 to 255 visible ASCII characters"
        )))
    }
}

/// A scope token per RFC 6749; allowed scopes may end in `*` to allow a prefix (`*` alone: any).
fn check_scope(scope: &str, pattern_allowed: bool) -> Result<(), AdminError> {
    let (token, is_pattern) = match scope.strip_suffix('*') {
        Some(prefix) => (prefix, true),
        None => (scope, false),
    };
    if is_pattern && !pattern_allowed {
        return Err(AdminError::Invalid(format!(
            "default scope '{scope}' must be a plain scope, not a pattern"
        )));
    }
    let valid =
        (is_pattern && token.is_empty()) || (scope::is_valid_token(token) && !token.contains('*'));
    if valid {
        Ok(())
    } else {
        Err(AdminError::Invalid(format!("invalid scope '{scope}'")))
    }
}
