//! The token request, whatever dialect it came in: check the grant, authenticate the client,
//! decide the scope, mint the token.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use secrecy::{ExposeSecret, SecretString};

use super::{
    ErrorCode, GrantType, OAuthError,
    assertion::{self, AssertionError, AssertionRules},
    client_auth, scope,
};
use crate::{
    clock::Clock,
    metrics::Metrics,
    secret::SecretHasher,
    store::{Client, Store, StoreError, cache::RealmState},
    token::{self, AccessTokenClaims, DEFAULT_AUDIENCE, DEFAULT_LIFETIME_SECS},
};

/// `client_assertion_type` of private_key_jwt (RFC 7523 2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Which wire dialect a request came in; it decides the assertion rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Always the strict RFC 7523 rules.
    Keycloak,
    /// Frontier-made assertions accepted, unless the realm asks for strict rules.
    Frontier,
}

/// How the caller authenticates, taken out of its transport by the adapter.
#[derive(Debug)]
pub enum ClientAuth {
    None,
    /// client_secret_basic or client_secret_post.
    Secret {
        client_id: String,
        secret: Option<SecretString>,
        /// A second reading of the secret to try (Basic credentials sent without encoding).
        raw_secret: Option<SecretString>,
    },
    /// private_key_jwt.
    Assertion {
        client_id: Option<String>,
        assertion_type: Option<String>,
        assertion: SecretString,
    },
}

/// A token request as the adapters hand it over. Client-auth extraction may have failed already;
/// that failure is reported in its place in the order of checks (after the grant type).
/// `Debug` leaves the assertion out.
pub struct TokenRequest<'a> {
    pub grant_type: Option<&'a str>,
    pub client_auth: Result<ClientAuth, OAuthError>,
    /// The jwt-bearer grant's `assertion`.
    pub assertion: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub client_address: IpAddr,
    pub dialect: Dialect,
}

impl std::fmt::Debug for TokenRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("client_auth", &self.client_auth)
            .field("assertion", &self.assertion.map(|_| "[REDACTED]"))
            .field("scope", &self.scope)
            .field("client_address", &self.client_address)
            .field("dialect", &self.dialect)
            .finish()
    }
}

/// A minted access token.
pub struct IssuedToken {
    pub access_token: String,
    pub expires_in: u32,
    pub scope: String,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("access_token", &"[REDACTED]")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Issues, introspects and revokes tokens.
pub struct TokenService {
    pub metrics: Metrics,
    hasher: SecretHasher,
    pub(super) clock: Arc<dyn Clock>,
    /// Records used assertion ids and revocations.
    pub(super) store: Arc<dyn Store>,
    max_assertion_lifetime: u64,
    local_jtis: LocalJtis,
}

impl TokenService {
    pub fn new(
        hasher: SecretHasher,
        clock: Arc<dyn Clock>,
        store: Arc<dyn Store>,
        max_assertion_lifetime: u64,
    ) -> Self {
        TokenService {
            metrics: Metrics::default(),
            hasher,
            clock,
            store,
            max_assertion_lifetime,
            local_jtis: LocalJtis::default(),
        }
    }

    pub async fn issue(
        &self,
        realm: &RealmState,
        request: TokenRequest<'_>,
    ) -> Result<IssuedToken, OAuthError> {
        let issued = self.issue_token(realm, request).await;
        match &issued {
            Ok(_) => self.metrics.token_issued(),
            Err(error) => self.metrics.token_refused(error.code),
        }
        issued
    }

    async fn issue_token(
        &self,
        realm: &RealmState,
        request: TokenRequest<'_>,
    ) -> Result<IssuedToken, OAuthError> {
        let grant = match request.grant_type {
            None => {
                return Err(OAuthError::invalid_request(
                    "Missing form parameter: grant_type",
                ));
            }
            Some(value) => GrantType::parse(value).ok_or_else(|| {
                OAuthError::new(ErrorCode::UnsupportedGrantType, "Unsupported grant_type")
            })?,
        };
        let client_auth = match (grant, request.client_auth?) {
            // Client authentication is optional with this grant (RFC 7523 2.1), and many
            // libraries send a bare client_id along.
            (GrantType::JwtBearer, ClientAuth::Secret { secret: None, .. }) => ClientAuth::None,
            (_, auth) => auth,
        };
        let authenticated = self
            .authenticate(realm, client_auth, request.dialect)
            .await?;
        let client = match grant {
            GrantType::ClientCredentials => authenticated.ok_or_else(|| {
                OAuthError::invalid_client(
                    "Missing client credentials: use HTTP Basic or client_id and client_secret",
                )
            })?,
            GrantType::JwtBearer => {
                let assertion = request
                    .assertion
                    .ok_or_else(|| OAuthError::invalid_request("Missing parameter: assertion"))?;
                let subject = self
                    .verify_assertion(
                        realm,
                        assertion,
                        None,
                        request.dialect,
                        ErrorCode::InvalidGrant,
                    )
                    .await?;
                if authenticated.is_some_and(|c| c.id != subject.id) {
                    return Err(OAuthError::new(
                        ErrorCode::InvalidGrant,
                        "assertion subject is not the authenticated client",
                    ));
                }
                subject
            }
        };
        if !client.grant_types.contains(&grant) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                format!("Client is not allowed to use grant type {}", grant.as_str()),
            ));
        }
        let scope = scope::grant(client, request.scope)?;
        self.mint(realm, client, scope, request.client_address)
    }

    /// The client the caller proved to be, if it tried. A client assertion's `jti` is used up.
    pub async fn authenticate<'r>(
        &self,
        realm: &'r RealmState,
        auth: ClientAuth,
        dialect: Dialect,
    ) -> Result<Option<&'r Client>, OAuthError> {
        match auth {
            ClientAuth::None => Ok(None),
            ClientAuth::Secret {
                client_id,
                secret,
                raw_secret,
            } => client_auth::authenticate(
                realm,
                &self.hasher,
                &client_id,
                secret.as_ref(),
                raw_secret.as_ref(),
            )
            .map(Some),
            ClientAuth::Assertion {
                client_id,
                assertion_type,
                assertion,
            } => {
                match assertion_type.as_deref() {
                    Some(CLIENT_ASSERTION_TYPE) => {}
                    None => {
                        return Err(OAuthError::invalid_client(
                            "Parameter client_assertion_type is missing",
                        ));
                    }
                    Some(_) => {
                        return Err(OAuthError::invalid_client(format!(
                            "Parameter client_assertion_type must be '{CLIENT_ASSERTION_TYPE}'"
                        )));
                    }
                }
                let client = self
                    .verify_assertion(
                        realm,
                        assertion.expose_secret(),
                        client_id.as_deref(),
                        dialect,
                        ErrorCode::InvalidClient,
                    )
                    .await?;
                Ok(Some(client))
            }
        }
    }

    /// Checks an assertion under the dialect's rules and uses up its `jti`; failures are
    /// `code` (invalid_client for client authentication, invalid_grant for the grant).
    async fn verify_assertion<'r>(
        &self,
        realm: &'r RealmState,
        assertion: &str,
        client_id: Option<&str>,
        dialect: Dialect,
        code: ErrorCode,
    ) -> Result<&'r Client, OAuthError> {
        let rules = AssertionRules {
            strict: dialect == Dialect::Keycloak || realm.realm.strict_assertions,
            max_lifetime: self.max_assertion_lifetime,
            now: self.clock.now(),
        };
        let verified = assertion::verify(realm, assertion, client_id, rules)
            .map_err(|e| OAuthError::new(code, e.to_string()))?;
        if let Some(jti) = &verified.jti {
            let id = (
                realm.realm.id.as_str(),
                verified.client.id.as_str(),
                jti.as_str(),
            );
            if !self.use_jti(id, verified.expires_at).await? {
                return Err(OAuthError::new(code, AssertionError::Replayed.to_string()));
            }
        }
        Ok(verified.client)
    }

    /// Records an assertion id as used; false if it already was. While the database is away,
    /// ids are recorded on this instance (and written to the database once it is back), so
    /// tokens keep being issued: the price is that another instance could accept a replay of
    /// an assertion first used during the outage, within the assertion's short life.
    async fn use_jti(
        &self,
        (realm, owner, jti): (&str, &str, &str),
        expires_at: u64,
    ) -> Result<bool, OAuthError> {
        let id = UsedJti {
            realm: realm.to_owned(),
            owner: owner.to_owned(),
            jti: jti.to_owned(),
            expires_at,
        };
        match self.local_jtis.check(&id) {
            Local::Used => return Ok(false),
            Local::DatabaseDown => return Ok(self.local_jtis.record(id, self.clock.now())),
            Local::Unknown => {}
        }
        match self.store.register_jti(realm, owner, jti, expires_at).await {
            Ok(fresh) => {
                for id in self.local_jtis.take_unflushed() {
                    let _ = self
                        .store
                        .register_jti(&id.realm, &id.owner, &id.jti, id.expires_at)
                        .await;
                }
                Ok(fresh)
            }
            Err(StoreError::Unavailable(reason)) => {
                tracing::warn!(%reason, "database unreachable: assertion ids are recorded on this instance for now");
                self.local_jtis.database_down();
                Ok(self.local_jtis.record(id, self.clock.now()))
            }
            Err(error) => Err(OAuthError::from_store(&error, "record the assertion id")),
        }
    }

    fn mint(
        &self,
        realm: &RealmState,
        client: &Client,
        scope: String,
        client_address: IpAddr,
    ) -> Result<IssuedToken, OAuthError> {
        // Never before the client's revocation cut-off, which may be up to a second ahead.
        let now = self.clock.now().max(client.not_before);
        let lifetime = client
            .token_lifetime
            .or(realm.realm.token_lifetime)
            .unwrap_or(DEFAULT_LIFETIME_SECS);
        let audience: Vec<&str> = if client.audience.is_empty() {
            vec![DEFAULT_AUDIENCE]
        } else {
            client.audience.iter().map(String::as_str).collect()
        };
        let address = client_address.to_string();
        let username = format!("service-account-{}", client.client_id.to_lowercase());
        let jti = token::new_jti().map_err(internal)?;
        let claims = AccessTokenClaims {
            exp: now + u64::from(lifetime),
            iat: now,
            jti: &jti,
            iss: &realm.issuer,
            aud: &audience,
            sub: &client.id,
            typ: "Bearer",
            azp: &client.client_id,
            scope: &scope,
            client_host: &address,
            preferred_username: &username,
            client_address: &address,
            client_id: &client.client_id,
        };
        let access_token = token::sign_jwt(&realm.signing_key, &claims).map_err(internal)?;
        Ok(IssuedToken {
            access_token,
            expires_in: lifetime,
            scope,
        })
    }
}

/// An assertion id recorded on this instance only.
struct UsedJti {
    realm: String,
    owner: String,
    jti: String,
    expires_at: u64,
}

enum Local {
    /// Recorded here as used.
    Used,
    /// The database failed moments ago: record here, without waiting on it again.
    DatabaseDown,
    Unknown,
}

/// How long the database is not asked again after it failed.
const DATABASE_DOWN_PAUSE: Duration = Duration::from_secs(5);

/// Assertion ids used while the database was unreachable: kept until they expire, and written
/// to the database once it answers again.
#[derive(Default)]
struct LocalJtis(Mutex<LocalState>);

#[derive(Default)]
struct LocalState {
    ids: HashMap<String, u64>,
    unflushed: Vec<UsedJti>,
    down_until: Option<Instant>,
    /// Expired ids are swept when the map grows past this.
    sweep_at: usize,
}

impl LocalJtis {
    fn state(&self) -> MutexGuard<'_, LocalState> {
        match self.0.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn key(id: &UsedJti) -> String {
        format!("{}\n{}\n{}", id.realm, id.owner, id.jti)
    }

    fn check(&self, id: &UsedJti) -> Local {
        let state = self.state();
        if state.ids.contains_key(&Self::key(id)) {
            Local::Used
        } else if state.down_until.is_some_and(|until| Instant::now() < until) {
            Local::DatabaseDown
        } else {
            Local::Unknown
        }
    }

    fn database_down(&self) {
        self.state().down_until = Some(Instant::now() + DATABASE_DOWN_PAUSE);
    }

    /// Records `id`; false if it was there already.
    fn record(&self, id: UsedJti, now: u64) -> bool {
        let mut state = self.state();
        if state.ids.len() >= state.sweep_at.max(1024) {
            state.ids.retain(|_, expires_at| *expires_at >= now);
            state.sweep_at = state.ids.len() * 2;
        }
        let fresh = state.ids.insert(Self::key(&id), id.expires_at).is_none();
        if fresh {
            state.unflushed.push(id);
        }
        fresh
    }

    fn take_unflushed(&self) -> Vec<UsedJti> {
        std::mem::take(&mut self.state().unflushed)
    }
}

fn internal(error: token::TokenError) -> OAuthError {
    tracing::error!(%error, "token signing failed");
    OAuthError::server_error()
}
