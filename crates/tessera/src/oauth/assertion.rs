//! JWT assertions signed with a client's registered key: the jwt-bearer grant (RFC 7523 2.1) and
//! private_key_jwt client authentication (RFC 7523 2.2).
//!
//! Strict rules (RFC 7523, always on the Keycloak endpoints): `iss` and `sub` name the client, the
//! key is one of the client's, `aud` names this server, `exp` is required and near, `jti` is
//! required (and single-use, checked by the caller). Frontier's SDK makes assertions with a `kid`
//! claim, an `iss` of its own and no `aud` or `jti`; the lenient rules accept those: the key is
//! found by `kid` and its owner is the client.

use serde::Deserialize;

use crate::{
    clock::UnixTime,
    keys::{Jws, JwsError},
    store::{
        Client,
        cache::{RealmState, RegisteredKey},
    },
};

/// Clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Clone, Copy)]
pub struct AssertionRules {
    pub strict: bool,
    /// How far ahead `exp` may be.
    pub max_lifetime: u64,
    pub now: UnixTime,
}

/// An assertion whose signature and claims checked out.
#[derive(Debug)]
pub struct VerifiedAssertion<'r> {
    pub client: &'r Client,
    pub jti: Option<String>,
    pub expires_at: UnixTime,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AssertionError {
    #[error("assertion rejected: {0}")]
    Jws(JwsError),
    #[error("assertion claims are not valid JSON claims")]
    Claims,
    #[error("assertion has no kid (in its header or claims)")]
    MissingKid,
    #[error("assertion kid is not a registered key")]
    UnknownKey,
    #[error("assertion key is not registered to client {0}")]
    ForeignKey(String),
    #[error("assertion needs iss and sub, both the client id")]
    MissingSubject,
    #[error("assertion iss and sub must both be the client id")]
    SubjectMismatch,
    #[error("client_id parameter does not match the assertion's sub")]
    ClientIdMismatch,
    #[error("Invalid client or Invalid client credentials")]
    UnknownClient,
    #[error("assertion has no registered key of its algorithm for the client")]
    NoKey,
    #[error("assertion has no exp")]
    MissingExpiry,
    #[error("assertion has expired")]
    Expired,
    #[error("assertion exp is more than {0} seconds ahead")]
    TooLongLived(u64),
    #[error("assertion is not valid yet (nbf)")]
    NotYetValid,
    #[error("assertion was issued in the future (iat)")]
    IssuedInFuture,
    #[error("assertion aud does not name this server")]
    WrongAudience,
    #[error("assertion has no jti")]
    MissingJti,
    #[error("assertion jti was already used")]
    Replayed,
}

#[derive(Debug, Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default)]
    aud: Option<OneOrMany>,
    exp: Option<f64>,
    nbf: Option<f64>,
    iat: Option<f64>,
    jti: Option<String>,
    /// Frontier's SDK names the key in the claims.
    kid: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn contains_any(&self, accepted: &[String]) -> bool {
        match self {
            OneOrMany::One(aud) => accepted.contains(aud),
            OneOrMany::Many(auds) => auds.iter().any(|aud| accepted.contains(aud)),
        }
    }
}

/// Verifies `assertion`. `client_id` is the caller's `client_id` parameter, if any (it must then
/// be the assertion's subject).
pub fn verify<'r>(
    realm: &'r RealmState,
    assertion: &str,
    client_id: Option<&str>,
    rules: AssertionRules,
) -> Result<VerifiedAssertion<'r>, AssertionError> {
    let jws = Jws::parse(assertion).map_err(AssertionError::Jws)?;
    let claims: Claims =
        serde_json::from_slice(&jws.payload).map_err(|_| AssertionError::Claims)?;

    let (client, candidates) = if rules.strict {
        strict_keys(realm, &jws, &claims, client_id)?
    } else {
        let kid = jws.header.kid.as_deref().or(claims.kid.as_deref());
        let key = realm
            .client_key(kid.ok_or(AssertionError::MissingKid)?)
            .ok_or(AssertionError::UnknownKey)?;
        let client = realm
            .client(&key.client_id)
            .ok_or(AssertionError::UnknownKey)?;
        if client_id.is_some_and(|id| id != client.client_id) {
            return Err(AssertionError::ClientIdMismatch);
        }
        (client, vec![key])
    };
    // The error of the last candidate tells why (with one candidate, the only one).
    let mut outcome = Err(AssertionError::NoKey);
    for key in candidates {
        outcome = jws.verify(&key.key).map_err(AssertionError::Jws);
        if outcome.is_ok() {
            break;
        }
    }
    outcome?;
    if !client.enabled {
        return Err(AssertionError::UnknownClient);
    }

    let now = rules.now as f64;
    let leeway = LEEWAY_SECS as f64;
    let exp = claims.exp.ok_or(AssertionError::MissingExpiry)?;
    if exp + leeway < now {
        return Err(AssertionError::Expired);
    }
    if exp > now + rules.max_lifetime as f64 + leeway {
        return Err(AssertionError::TooLongLived(rules.max_lifetime));
    }
    if claims.nbf.is_some_and(|nbf| nbf > now + leeway) {
        return Err(AssertionError::NotYetValid);
    }
    if claims.iat.is_some_and(|iat| iat > now + leeway) {
        return Err(AssertionError::IssuedInFuture);
    }
    // Frontier's SDK sends no `aud`; one that is there must still name this server.
    let audience_ok = match &claims.aud {
        Some(aud) => aud.contains_any(&realm.assertion_audiences),
        None => !rules.strict,
    };
    if !audience_ok {
        return Err(AssertionError::WrongAudience);
    }
    if rules.strict && claims.jti.as_deref().is_none_or(str::is_empty) {
        return Err(AssertionError::MissingJti);
    }
    Ok(VerifiedAssertion {
        client,
        jti: claims.jti.filter(|jti| !jti.is_empty()),
        // Remembered until the assertion could no longer be accepted.
        expires_at: exp.max(0.0) as u64 + LEEWAY_SECS,
    })
}

/// Strict lookup: the client named by `iss`/`sub`, and the key named by `kid` among that
/// client's keys (without a `kid`: each of its keys of the header's algorithm).
fn strict_keys<'r>(
    realm: &'r RealmState,
    jws: &Jws<'_>,
    claims: &Claims,
    client_id: Option<&str>,
) -> Result<(&'r Client, Vec<&'r RegisteredKey>), AssertionError> {
    let (Some(iss), Some(sub)) = (claims.iss.as_deref(), claims.sub.as_deref()) else {
        return Err(AssertionError::MissingSubject);
    };
    if iss != sub {
        return Err(AssertionError::SubjectMismatch);
    }
    if client_id.is_some_and(|id| id != sub) {
        return Err(AssertionError::ClientIdMismatch);
    }
    let client = realm.client(sub).ok_or(AssertionError::UnknownClient)?;
    let keys = match jws.header.kid.as_deref() {
        Some(kid) => {
            let key = realm.client_key(kid).ok_or(AssertionError::UnknownKey)?;
            if key.owner_id != client.id {
                return Err(AssertionError::ForeignKey(client.client_id.clone()));
            }
            vec![key]
        }
        None => realm
            .keys_of(&client.id)
            .filter(|key| key.key.alg().as_str() == jws.header.alg)
            .collect(),
    };
    Ok((client, keys))
}
