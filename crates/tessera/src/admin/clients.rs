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
}

/// Where a client's secret comes from.
pub enum SecretSource {
    /// A new random secret, returned to be shown once.
    Generate,
    /// An existing secret the operator keeps (for example one deployed with Keycloak).
    Supplied(SecretString),
}

impl SecretSource {
    /// The secret to store, and the one to show (only when generated).
    fn resolve(self) -> Result<(SecretString, Option<SecretString>), AdminError> {
        match self {
            SecretSource::Generate => {
                let secret = secret::generate()?;
                Ok((secret.clone(), Some(secret)))
            }
            SecretSource::Supplied(secret) => {
                secret::validate_imported(secrecy::ExposeSecret::expose_secret(&secret))?;
                Ok((secret, None))
            }
        }
    }
}

/// Creates a confidential client allowed the client_credentials grant. Returns the generated
/// secret, if one was generated: it exists nowhere else afterwards.
pub async fn create_client(
    store: &dyn Store,
    hasher: &SecretHasher,
    clock: &dyn Clock,
    realm: &Realm,
    new: NewClient,
    secret: SecretSource,
) -> Result<Option<SecretString>, AdminError> {
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
    let (secret, shown) = secret.resolve()?;
    let client = Client {
        id: new_id()?,
        realm_id: realm.id.clone(),
        client_id: new.client_id,
        secret_hash: hasher.hash(&secret),
        enabled: true,
        scopes: new.scopes,
        default_scopes: new.default_scopes,
        grant_types: vec![GrantType::ClientCredentials],
        audience: new.audience,
        token_lifetime: new.token_lifetime,
        created_at: clock.now(),
    };
    store.create_client(&client).await?;
    Ok(shown)
}

/// Replaces a client's secret; the old one stops working at once.
pub async fn rotate_secret(
    store: &dyn Store,
    hasher: &SecretHasher,
    realm: &Realm,
    client_id: &str,
    secret: SecretSource,
) -> Result<Option<SecretString>, AdminError> {
    let (secret, shown) = secret.resolve()?;
    store
        .set_client_secret_hash(&realm.id, client_id, &hasher.hash(&secret))
        .await?;
    Ok(shown)
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
