//! Which scopes a client gets.
//!
//! A client has allowed scopes (exact, or a prefix pattern ending in `*`, such as `tenant/*`) and
//! default scopes. As in Keycloak, a token always carries the defaults plus whatever allowed scopes
//! were requested; `openid` is accepted from every client (python-keycloak always sends it).

use super::{ErrorCode, OAuthError};
use crate::store::Client;

use std::collections::HashSet;

pub const OPENID: &str = "openid";

/// More scopes than a client plausibly needs at once; larger requests are refused.
pub const MAX_REQUESTED: usize = 100;

/// The space-separated scope to grant `client` for the `requested` scope parameter.
pub fn grant(client: &Client, requested: Option<&str>) -> Result<String, OAuthError> {
    let requested: Vec<&str> = requested
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    if requested.len() > MAX_REQUESTED {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            format!("Too many scopes requested (at most {MAX_REQUESTED})"),
        ));
    }
    let invalid = || {
        OAuthError::new(
            ErrorCode::InvalidScope,
            format!("Invalid scopes: {}", printable(&requested.join(" "))),
        )
    };
    if requested.iter().any(|scope| !is_valid_token(scope)) {
        return Err(invalid());
    }
    if requested.iter().any(|scope| !is_allowed(client, scope)) {
        return Err(invalid());
    }

    let mut granted: Vec<&str> = Vec::new();
    let mut seen = HashSet::new();
    let openid = requested.contains(&OPENID).then_some(OPENID);
    let defaults = client.default_scopes.iter().map(String::as_str);
    for scope in openid
        .into_iter()
        .chain(defaults)
        .chain(requested.iter().copied())
    {
        if seen.insert(scope) {
            granted.push(scope);
        }
    }
    Ok(granted.join(" "))
}

/// The request's scope as it may be echoed in an error (and so in a log line): characters a
/// scope cannot contain become `?`, and it is cut at 200 characters.
fn printable(scope: &str) -> String {
    scope
        .chars()
        .take(200)
        .map(|c| {
            let mut buf = [0; 4];
            if c == ' ' || is_valid_token(c.encode_utf8(&mut buf)) {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// Whether `scope` may be requested by `client`.
fn is_allowed(client: &Client, scope: &str) -> bool {
    scope == OPENID
        || client.default_scopes.iter().any(|s| s == scope)
        || client.scopes.iter().any(|pattern| matches(pattern, scope))
}

/// `pattern` is a scope or a prefix ending in `*`; a prefix needs at least one more character.
pub fn matches(pattern: &str, scope: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => scope.len() > prefix.len() && scope.starts_with(prefix),
        None => pattern == scope,
    }
}

/// RFC 6749 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
pub fn is_valid_token(scope: &str) -> bool {
    !scope.is_empty()
        && scope
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::oauth::GrantType;

    fn client(scopes: &[&str], defaults: &[&str]) -> Client {
        Client {
            id: "id".into(),
            realm_id: "realm".into(),
            client_id: "svc".into(),
            secret_hash: None,
            enabled: true,
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            default_scopes: defaults.iter().map(|s| s.to_string()).collect(),
            grant_types: vec![GrantType::ClientCredentials],
            audience: vec![],
            token_lifetime: None,
            not_before: 0,
            created_at: 0,
        }
    }

    #[test]
    fn no_request_gives_the_defaults() {
        let c = client(&["write"], &["read", "profile"]);
        assert_eq!(grant(&c, None).unwrap(), "read profile");
        assert_eq!(grant(&c, Some("  ")).unwrap(), "read profile");
    }

    #[test]
    fn requested_scopes_are_added_to_the_defaults_once() {
        let c = client(&["write", "tenant/*"], &["read"]);
        assert_eq!(
            grant(&c, Some("tenant/3f2a write read write")).unwrap(),
            "read tenant/3f2a write"
        );
    }

    #[test]
    fn openid_is_accepted_from_everyone_and_listed_first() {
        let c = client(&[], &["read"]);
        assert_eq!(grant(&c, Some("openid")).unwrap(), "openid read");
    }

    #[test]
    fn anything_not_allowed_is_invalid_scope_naming_the_request() {
        let c = client(&["tenant/*"], &[]);
        let err = grant(&c, Some("tenant/a admin")).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidScope);
        assert_eq!(err.description, "Invalid scopes: tenant/a admin");
        // A prefix pattern needs something after the prefix.
        assert!(grant(&c, Some("tenant/")).is_err());
        assert!(grant(&c, Some("tenantx")).is_err());
        // Characters outside RFC 6749's scope-token are refused even if a pattern would match,
        // and not echoed.
        let any = client(&["*"], &[]);
        let err = grant(&any, Some("a\"b\nforged")).unwrap_err();
        assert_eq!(err.description, "Invalid scopes: a?b?forged");
        assert!(grant(&any, Some("anything")).is_ok());
        let many: Vec<String> = (0..=MAX_REQUESTED).map(|n| format!("s{n}")).collect();
        assert!(grant(&any, Some(&many.join(" "))).is_err());
    }
}
