//! The token request, whatever dialect it came in: check the grant, authenticate the client,
//! decide the scope, mint the token.

use std::{net::IpAddr, sync::Arc};

use super::{ClientCredentials, ErrorCode, GrantType, OAuthError, authenticate, scope};
use crate::{
    clock::Clock,
    secret::SecretHasher,
    store::cache::RealmState,
    token::{self, AccessTokenClaims, DEFAULT_AUDIENCE, DEFAULT_LIFETIME_SECS},
};

/// A token request as the adapters hand it over. Credential extraction may have failed already;
/// that failure is reported in its place in the order of checks (after the grant type).
#[derive(Debug)]
pub struct TokenRequest<'a> {
    pub grant_type: Option<&'a str>,
    pub credentials: Result<ClientCredentials, OAuthError>,
    pub scope: Option<&'a str>,
    pub client_address: IpAddr,
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

pub struct TokenService {
    hasher: SecretHasher,
    clock: Arc<dyn Clock>,
}

impl TokenService {
    pub fn new(hasher: SecretHasher, clock: Arc<dyn Clock>) -> Self {
        TokenService { hasher, clock }
    }

    pub fn issue(
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
        let client = authenticate(realm, &self.hasher, &request.credentials?)?;
        if !client.grant_types.contains(&grant) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                format!("Client is not allowed to use grant type {}", grant.as_str()),
            ));
        }
        let scope = scope::grant(client, request.scope)?;

        let lifetime = client
            .token_lifetime
            .or(realm.realm.token_lifetime)
            .unwrap_or(DEFAULT_LIFETIME_SECS);
        let now = self.clock.now();
        let audience: Vec<&str> = if client.audience.is_empty() {
            vec![DEFAULT_AUDIENCE]
        } else {
            client.audience.iter().map(String::as_str).collect()
        };
        let address = request.client_address.to_string();
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

fn internal(error: token::TokenError) -> OAuthError {
    tracing::error!(%error, "token signing failed");
    OAuthError::server_error()
}
