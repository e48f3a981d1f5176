//! The Keycloak dialect: `/realms/{realm}/…` endpoints, form-encoded requests, RFC 6749 JSON
//! responses with Keycloak's field names and descriptions.

use std::net::SocketAddr;

use axum::{
    Json,
    body::Bytes,
    extract::{ConnectInfo, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use secrecy::SecretString;
use serde::Serialize;
use serde_json::json;

use super::{
    AppState, RealmContext,
    basic::{self, BasicCredentials},
    error::json_error,
    form::{Form, FormError},
};
use crate::{
    keys::SigningAlg,
    oauth::{ClientAuth, Dialect, ErrorCode, GrantType, OAuthError, TokenRequest},
};

const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// `POST /realms/{realm}/protocol/openid-connect/token`
pub async fn token(
    State(app): State<AppState>,
    RealmContext(realm): RealmContext,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let form = match read_form(&headers, body) {
        Ok(form) => form,
        Err((status, description)) => {
            let error = json_error(status, ErrorCode::InvalidRequest.as_str(), description);
            return no_store(error);
        }
    };
    let authorization = headers.get(header::AUTHORIZATION);
    let request = TokenRequest {
        grant_type: form.get("grant_type"),
        client_auth: client_auth(&form, authorization),
        assertion: form.get("assertion"),
        scope: form.get("scope"),
        client_address: peer.ip(),
        dialect: Dialect::Keycloak,
    };
    let response = match app.tokens.issue(&realm, request).await {
        Ok(token) => Json(TokenResponse {
            access_token: &token.access_token,
            expires_in: token.expires_in,
            refresh_expires_in: 0,
            token_type: "Bearer",
            not_before_policy: 0,
            scope: &token.scope,
        })
        .into_response(),
        Err(error) => {
            tracing::info!(error = error.code.as_str(), description = %error.description, "token refused");
            let challenge = authorization.is_some().then_some(realm.realm.name.as_str());
            oauth_error(&error, challenge)
        }
    };
    no_store(response)
}

/// RFC 6749 5.1 success body, with Keycloak's extra fields in Keycloak's order.
#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    expires_in: u32,
    refresh_expires_in: u32,
    token_type: &'static str,
    #[serde(rename = "not-before-policy")]
    not_before_policy: u32,
    scope: &'a str,
}

/// How the client authenticates: a `client_assertion` (private_key_jwt), or id and secret from
/// the body or HTTP Basic. As in Keycloak, body values win over the header's; a malformed header
/// only matters when the body names no client.
fn client_auth(form: &Form, authorization: Option<&HeaderValue>) -> Result<ClientAuth, OAuthError> {
    if let Some(assertion) = form.get("client_assertion") {
        return Ok(ClientAuth::Assertion {
            client_id: form.get("client_id").map(str::to_owned),
            assertion_type: form.get("client_assertion_type").map(str::to_owned),
            assertion: assertion.to_owned(),
        });
    }
    let basic = authorization.map(basic::parse);
    let body_secret = form.get("client_secret").map(SecretString::from);
    // The body's secret, else the header's (and its raw reading).
    let secrets = |basic: Option<BasicCredentials>| match body_secret {
        Some(secret) => (Some(secret), None),
        None => basic.map_or((None, None), |b| (Some(b.secret), b.raw_secret)),
    };
    match (form.get("client_id"), basic) {
        (Some(client_id), basic) => {
            let (secret, raw_secret) = secrets(basic.and_then(Result::ok));
            Ok(ClientAuth::Secret {
                client_id: client_id.to_owned(),
                secret,
                raw_secret,
            })
        }
        (None, Some(Ok(basic))) => {
            let client_id = basic.client_id.clone();
            let (secret, raw_secret) = secrets(Some(basic));
            Ok(ClientAuth::Secret {
                client_id,
                secret,
                raw_secret,
            })
        }
        (None, Some(Err(error))) => Err(OAuthError::invalid_client(error.to_string())),
        (None, None) => Ok(ClientAuth::None),
    }
}

/// Checks the content type and reads the form; failures are 415, 413 or 400 `invalid_request`.
fn read_form(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Form, (StatusCode, &'static str)> {
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        let media_type = content_type
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        if !media_type.eq_ignore_ascii_case(FORM_CONTENT_TYPE) {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/x-www-form-urlencoded",
            ));
        }
    }
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            (StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large")
        }
        status => (status, "Could not read the request body"),
    })?;
    Form::parse(&body).map_err(|error| {
        let description = match error {
            FormError::Duplicate => "duplicated parameter",
            FormError::Encoding => "Request body is not valid UTF-8 form encoding",
        };
        (StatusCode::BAD_REQUEST, description)
    })
}

/// RFC 6749 5.2 error response. `invalid_client` is 401, with a Basic challenge naming the realm
/// when the client authenticated with the Authorization header.
fn oauth_error(error: &OAuthError, basic_challenge: Option<&str>) -> Response {
    let status = match error.code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = json_error(status, error.code.as_str(), &error.description);
    if let (StatusCode::UNAUTHORIZED, Some(realm)) = (status, basic_challenge) {
        // Realm names are restricted to URL-safe characters, so this is a valid header value.
        if let Ok(value) = HeaderValue::from_str(&format!("Basic realm=\"{realm}\"")) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

/// RFC 6749 5.1: token endpoint responses must not be cached.
fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /realms/{realm}/.well-known/openid-configuration`
pub async fn discovery(RealmContext(realm): RealmContext) -> Response {
    let issuer = &realm.issuer;
    let grant_types: Vec<&str> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
    let signing_algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    let body = Json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/protocol/openid-connect/token"),
        "jwks_uri": format!("{issuer}/protocol/openid-connect/certs"),
        "grant_types_supported": grant_types,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": signing_algs,
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
    let public_key = match realm.signing_key.public_key_spki() {
        Ok(der) => STANDARD.encode(der),
        Err(error) => {
            tracing::error!(%error, "cannot encode the realm's public key");
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Internal server error",
            );
        }
    };
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
