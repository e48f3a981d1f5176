//! Introspection (RFC 7662) and revocation (RFC 7009) of the tokens a realm issued.

use serde_json::{Map, Value};

use super::{ClientAuth, Dialect, OAuthError, TokenService};
use crate::{
    keys::Jws,
    store::{Client, RevokedToken, cache::RealmState},
};

type Claims = Map<String, Value>;

impl TokenService {
    /// RFC 7662: the token's claims with `active: true`, or just `active: false` for a token
    /// that is expired, revoked, malformed, of another realm, or of a disabled or deleted client.
    pub async fn introspect(
        &self,
        realm: &RealmState,
        auth: Result<ClientAuth, OAuthError>,
        token: Option<&str>,
    ) -> Result<Claims, OAuthError> {
        self.require_client(realm, auth).await?;
        let token = token.ok_or_else(|| OAuthError::invalid_request("Token not provided."))?;
        let mut response = match self.active_claims(realm, token) {
            Some(mut claims) => {
                let copy = |claims: &Claims, name: &str| claims.get(name).cloned();
                if let Some(azp) = copy(&claims, "azp") {
                    claims.insert("client_id".into(), azp);
                }
                if let Some(username) = copy(&claims, "preferred_username") {
                    claims.insert("username".into(), username);
                }
                claims.insert("token_type".into(), "Bearer".into());
                claims
            }
            None => Map::new(),
        };
        let active = !response.is_empty();
        response.insert("active".into(), active.into());
        Ok(response)
    }

    /// RFC 7009: revokes a token the caller was issued. Returns the revoked token's id, if one
    /// was revoked; an invalid or expired token is no error.
    pub async fn revoke(
        &self,
        realm: &RealmState,
        auth: Result<ClientAuth, OAuthError>,
        token: Option<&str>,
    ) -> Result<Option<String>, OAuthError> {
        let caller = self.require_client(realm, auth).await?;
        let token = token.ok_or_else(|| OAuthError::invalid_request("Token not provided"))?;
        let Some(claims) = signed_claims(realm, token) else {
            return Ok(None);
        };
        // `sub` is the client's internal id: a later client with the same client id is another.
        if str_claim(&claims, "azp") != Some(caller.client_id.as_str())
            || str_claim(&claims, "sub") != Some(caller.id.as_str())
        {
            return Err(OAuthError::invalid_request("Unmatching clients"));
        }
        let (Some(jti), Some(exp)) = (str_claim(&claims, "jti"), u64_claim(&claims, "exp")) else {
            return Ok(None);
        };
        if exp <= self.clock.now() {
            return Ok(None);
        }
        let revoked = RevokedToken {
            realm_id: realm.realm.id.clone(),
            jti: jti.to_owned(),
            expires_at: exp,
        };
        self.store
            .revoke_token(&revoked)
            .await
            .map_err(|error| OAuthError::from_store(&error, "record the revocation"))?;
        Ok(Some(revoked.jti))
    }

    async fn require_client<'r>(
        &self,
        realm: &'r RealmState,
        auth: Result<ClientAuth, OAuthError>,
    ) -> Result<&'r Client, OAuthError> {
        self.authenticate(realm, auth?, Dialect::Keycloak)
            .await?
            .ok_or_else(|| OAuthError::invalid_client("Missing client credentials"))
    }

    /// The claims of `token` if it is one of the realm's and still active.
    fn active_claims(&self, realm: &RealmState, token: &str) -> Option<Claims> {
        let claims = signed_claims(realm, token)?;
        let client = realm.client(str_claim(&claims, "azp")?)?;
        // A client deleted and created again with the same client id is another client.
        let active = str_claim(&claims, "sub")? == client.id
            && client.enabled
            && u64_claim(&claims, "exp")? > self.clock.now()
            && u64_claim(&claims, "iat")? >= client.not_before
            && !realm.is_revoked(str_claim(&claims, "jti")?);
        active.then_some(claims)
    }
}

/// The claims of a token the realm signed: its signature by one of the realm's published keys,
/// its issuer the realm, its type Bearer.
fn signed_claims(realm: &RealmState, token: &str) -> Option<Claims> {
    let jws = Jws::parse(token).ok()?;
    let key = realm.token_key(jws.header.kid.as_deref()?)?;
    jws.verify(key.verifying_key()).ok()?;
    let claims: Claims = serde_json::from_slice(&jws.payload).ok()?;
    let ours = str_claim(&claims, "iss")? == realm.issuer && str_claim(&claims, "typ")? == "Bearer";
    ours.then_some(claims)
}

fn str_claim<'c>(claims: &'c Claims, name: &str) -> Option<&'c str> {
    claims.get(name)?.as_str()
}

fn u64_claim(claims: &Claims, name: &str) -> Option<u64> {
    claims.get(name)?.as_u64()
}
