//! What clients and resource servers read about a realm: discovery, keys, the realm summary.

use axum::{
    Json,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::json;

use crate::{http::RealmContext, keys::SigningAlg, oauth::GrantType};

/// `GET /realms/{realm}/.well-known/openid-configuration`
pub async fn discovery(RealmContext(realm): RealmContext) -> Response {
    let issuer = &realm.issuer;
    let grant_types: Vec<&str> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
    let signing_algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    let auth_methods = [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ];
    let body = Json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/protocol/openid-connect/token"),
        "introspection_endpoint": format!("{issuer}/protocol/openid-connect/token/introspect"),
        "revocation_endpoint": format!("{issuer}/protocol/openid-connect/revoke"),
        "jwks_uri": format!("{issuer}/protocol/openid-connect/certs"),
        "grant_types_supported": grant_types,
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": signing_algs,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": signing_algs,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": signing_algs,
        "scopes_supported": ["openid"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [realm.signing_key.alg().as_str()],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "jti", "azp", "scope", "client_id", "preferred_username"],
    }));
    public(body.into_response())
}

/// `GET /realms/{realm}`: Keycloak's realm summary with the active public key (base64 DER), which
/// python-keycloak's `public_key()` reads.
pub async fn realm_info(RealmContext(realm): RealmContext) -> Response {
    let public_key = STANDARD.encode(realm.signing_key.public_key_spki());
    let issuer = &realm.issuer;
    public(
        Json(json!({
            "realm": realm.realm.name,
            "public_key": public_key,
            "token-service": format!("{issuer}/protocol/openid-connect"),
            "account-service": format!("{issuer}/account"),
            "tokens-not-before": 0,
        }))
        .into_response(),
    )
}

/// `GET /realms/{realm}/protocol/openid-connect/certs`
pub async fn certs(RealmContext(realm): RealmContext) -> Response {
    let response = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        realm.jwks.clone(),
    );
    public(response.into_response())
}

/// Public documents any origin may read (Keycloak serves them with CORS open too).
fn public(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}
