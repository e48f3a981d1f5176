//! The Frontier dialect: `POST /v1beta1/auth/token` (the grpc-gateway generation, errors
//! `{code, message, details}` with numeric gRPC codes) and the Connect generation's
//! `POST /raystack.frontier.v1beta1.FrontierService/AuthToken` (errors `{code, message}` with
//! string codes), plus the realm's JWKS at Frontier's paths.
//!
//! Frontier quirks kept: the body is JSON whatever the Content-Type says (a form body is accepted
//! too); `grant_type` only decides which body fields count, header credentials are tried anyway;
//! Basic credentials are not URL-decoded; `Authorization: Bearer <jwt>` is an assertion.

use std::{borrow::Cow, net::SocketAddr, sync::Arc};

use axum::{
    Json,
    body::Bytes,
    extract::{ConnectInfo, State, rejection::BytesRejection},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;

use super::{AppState, basic, form::Form};
use crate::{
    keys::Jws,
    oauth::{ClientAuth, Dialect, ErrorCode, GrantType, OAuthError, TokenRequest},
    store::cache::RealmState,
};

/// Which generation of Frontier clients is calling; they differ only in the error shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    Gateway,
    Connect,
}

/// gRPC status codes Frontier's token API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Internal,
    Unavailable,
    Unauthenticated,
}

impl Code {
    fn number(self) -> u8 {
        match self {
            Code::InvalidArgument => 3,
            Code::NotFound => 5,
            Code::PermissionDenied => 7,
            Code::Internal => 13,
            Code::Unavailable => 14,
            Code::Unauthenticated => 16,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Code::InvalidArgument => "invalid_argument",
            Code::NotFound => "not_found",
            Code::PermissionDenied => "permission_denied",
            Code::Internal => "internal",
            Code::Unavailable => "unavailable",
            Code::Unauthenticated => "unauthenticated",
        }
    }

    /// grpc-gateway's and Connect's HTTP mapping.
    fn status(self) -> StatusCode {
        match self {
            Code::InvalidArgument => StatusCode::BAD_REQUEST,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::PermissionDenied => StatusCode::FORBIDDEN,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        }
    }
}

/// An error in Frontier's shape. `message` is Frontier's own text where clients may match on
/// it; `reason` says what exactly was wrong.
#[derive(Debug)]
pub struct FrontierError {
    code: Code,
    message: Cow<'static, str>,
    reason: Option<(&'static str, String)>,
    status: Option<StatusCode>,
}

impl FrontierError {
    fn new(code: Code, message: impl Into<Cow<'static, str>>) -> Self {
        FrontierError {
            code,
            message: message.into(),
            reason: None,
            status: None,
        }
    }

    fn from_oauth(error: OAuthError) -> Self {
        let reason = Some((error.code.as_str(), error.description.to_string()));
        let (code, message): (Code, Cow<'static, str>) = match error.code {
            ErrorCode::InvalidClient | ErrorCode::InvalidGrant => {
                (Code::Unauthenticated, "not authenticated".into())
            }
            ErrorCode::UnauthorizedClient => (Code::PermissionDenied, "not authorized".into()),
            ErrorCode::ServerError => (Code::Internal, "internal server error".into()),
            ErrorCode::TemporarilyUnavailable => (Code::Unavailable, error.description),
            ErrorCode::InvalidRequest
            | ErrorCode::InvalidScope
            | ErrorCode::UnsupportedGrantType => (Code::InvalidArgument, error.description),
        };
        FrontierError {
            code,
            message,
            reason,
            status: None,
        }
    }

    fn render(self, generation: Generation) -> Response {
        let status = self.status.unwrap_or(self.code.status());
        let mut response = match generation {
            Generation::Gateway => {
                let details: Vec<_> = self
                    .reason
                    .iter()
                    .map(|(reason, description)| {
                        json!({
                            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                            "reason": reason.to_ascii_uppercase(),
                            "domain": "tessera",
                            "metadata": { "description": description },
                        })
                    })
                    .collect();
                let body = json!({
                    "code": self.code.number(),
                    "message": self.message,
                    "details": details,
                });
                (status, Json(body)).into_response()
            }
            Generation::Connect => {
                let body = json!({ "code": self.code.name(), "message": self.message });
                (status, Json(body)).into_response()
            }
        };
        // grpc-gateway repeats the message of an Unauthenticated error in WWW-Authenticate.
        if generation == Generation::Gateway && self.code == Code::Unauthenticated {
            if let Ok(value) = HeaderValue::from_str(&self.message) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

/// The `AuthToken` request body; both proto and JSON field names are accepted. Not `Debug`: it
/// holds a secret.
#[derive(Default, Deserialize)]
struct AuthTokenBody {
    #[serde(default, alias = "grantType")]
    grant_type: Option<String>,
    #[serde(default, alias = "clientId")]
    client_id: Option<String>,
    #[serde(default, alias = "clientSecret")]
    client_secret: Option<String>,
    #[serde(default)]
    assertion: Option<String>,
    /// Not in Frontier's API; Tessera's scopes work here too.
    #[serde(default)]
    scope: Option<String>,
}

/// `POST /v1beta1/auth/token`
pub async fn token(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    auth_token(state, peer, headers, body, Generation::Gateway).await
}

/// `POST /raystack.frontier.v1beta1.FrontierService/AuthToken`
pub async fn connect_token(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    auth_token(state, peer, headers, body, Generation::Connect).await
}

async fn auth_token(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
    generation: Generation,
) -> Response {
    let result = async {
        let realm = frontier_realm(&app)?;
        let body = read_body(&headers, body, generation)?;
        let (grant, client_auth, assertion) = credentials(&body, &headers)?;
        let request = TokenRequest {
            grant_type: Some(grant.as_str()),
            client_auth: Ok(client_auth),
            assertion: assertion.as_deref(),
            scope: body.scope.as_deref().filter(|s| !s.is_empty()),
            client_address: peer.ip(),
            dialect: Dialect::Frontier,
        };
        app.tokens
            .issue(&realm, request)
            .await
            .map_err(FrontierError::from_oauth)
    }
    .await;
    let mut response = match result {
        Ok(token) => match generation {
            Generation::Gateway => Json(json!({
                "access_token": token.access_token,
                "token_type": "Bearer",
                "expires_in": token.expires_in,
            }))
            .into_response(),
            // Connect clients decode strictly by the proto: only its fields.
            Generation::Connect => Json(json!({
                "access_token": token.access_token,
                "token_type": "Bearer",
            }))
            .into_response(),
        },
        Err(error) => {
            if let Some((reason, description)) = &error.reason {
                tracing::info!(error = reason, description = ?description, "token refused");
            }
            error.render(generation)
        }
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The realm the Frontier endpoints serve.
fn frontier_realm(app: &AppState) -> Result<Arc<RealmState>, FrontierError> {
    let name = app.frontier_realm.as_deref().ok_or_else(|| {
        FrontierError::new(
            Code::NotFound,
            "the Frontier token API is not enabled: start tessera serve with --frontier-realm REALM (or TESSERA_FRONTIER_REALM)",
        )
    })?;
    app.cache
        .directory()
        .realm(name)
        .cloned()
        .ok_or_else(|| FrontierError::new(Code::NotFound, format!("realm '{name}' does not exist")))
}

/// JSON whatever the Content-Type says (as Frontier's gateway does), or a form body when the
/// Content-Type says so. Connect clients always send JSON.
fn read_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    generation: Generation,
) -> Result<AuthTokenBody, FrontierError> {
    let body = body.map_err(|rejection| {
        let mut error =
            FrontierError::new(Code::InvalidArgument, "could not read the request body");
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            error.message = "request body is too large".into();
            error.status = Some(StatusCode::PAYLOAD_TOO_LARGE);
        }
        error
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if generation == Generation::Connect && !media_type.eq_ignore_ascii_case("application/json") {
        let mut error = FrontierError::new(
            Code::InvalidArgument,
            "only the JSON codec is supported: use Content-Type application/json",
        );
        error.status = Some(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        return Err(error);
    }
    if media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        let form = Form::parse(&body)
            .map_err(|_| FrontierError::new(Code::InvalidArgument, "invalid form body"))?;
        let field = |name: &str| form.get(name).map(str::to_owned);
        return Ok(AuthTokenBody {
            grant_type: field("grant_type"),
            client_id: field("client_id"),
            client_secret: field("client_secret"),
            assertion: field("assertion"),
            scope: field("scope"),
        });
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(AuthTokenBody::default());
    }
    serde_json::from_slice(&body)
        .map_err(|e| FrontierError::new(Code::InvalidArgument, format!("invalid JSON body: {e}")))
}

/// Frontier's rules: body credentials count only with the matching `grant_type`; otherwise the
/// Authorization header's Basic credentials or Bearer assertion are used.
fn credentials(
    body: &AuthTokenBody,
    headers: &HeaderMap,
) -> Result<(GrantType, ClientAuth, Option<String>), FrontierError> {
    let non_empty = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let grant = body.grant_type.as_deref().and_then(GrantType::parse);
    match (
        grant,
        non_empty(&body.client_id),
        non_empty(&body.client_secret),
    ) {
        (Some(GrantType::ClientCredentials), Some(client_id), Some(secret)) => {
            return Ok((
                GrantType::ClientCredentials,
                ClientAuth::Secret {
                    client_id,
                    secret: Some(SecretString::from(secret)),
                    raw_secret: None,
                },
                None,
            ));
        }
        (Some(GrantType::JwtBearer), _, _) if non_empty(&body.assertion).is_some() => {
            return Ok((
                GrantType::JwtBearer,
                ClientAuth::None,
                non_empty(&body.assertion),
            ));
        }
        _ => {}
    }
    let not_authenticated = || {
        let mut error = FrontierError::new(Code::Unauthenticated, "not authenticated");
        error.reason = Some((
            "invalid_client",
            "no client credentials or assertion".into(),
        ));
        error
    };
    let authorization = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(not_authenticated)?;
    if let Ok((client_id, secret)) = basic::parse_raw(authorization) {
        let auth = ClientAuth::Secret {
            client_id,
            secret: Some(secret),
            raw_secret: None,
        };
        return Ok((GrantType::ClientCredentials, auth, None));
    }
    let bearer = authorization
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
        .filter(|token| !token.is_empty());
    match bearer {
        Some(assertion) if usable_bearer_assertion(&assertion) => {
            Ok((GrantType::JwtBearer, ClientAuth::None, Some(assertion)))
        }
        _ => Err(not_authenticated()),
    }
}

/// Frontier takes an `Authorization: Bearer` JWT as an assertion only if it has a `jti` and an
/// `exp` (the `jti` is then used once, like any other).
fn usable_bearer_assertion(token: &str) -> bool {
    let Ok(jws) = Jws::parse(token) else {
        return false;
    };
    let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&jws.payload) else {
        return false;
    };
    let jti = claims
        .get("jti")
        .and_then(|j| j.as_str())
        .is_some_and(|j| !j.is_empty());
    jti && claims.get("exp").is_some_and(serde_json::Value::is_number)
}

/// `GET /.well-known/jwks.json` and `GET /v1beta1/auth/jwks`: the Frontier realm's keys.
pub async fn jwks(State(app): State<AppState>) -> Response {
    match frontier_realm(&app) {
        Ok(realm) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            realm.jwks.clone(),
        )
            .into_response(),
        Err(error) => error.render(Generation::Gateway),
    }
}
