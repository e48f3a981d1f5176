//! The Keycloak dialect: `/realms/{realm}/…` endpoints, form-encoded requests, RFC 6749 JSON
//! responses with Keycloak's field names and descriptions.

mod introspection;
mod metadata;
mod token;

pub use introspection::{introspect, revoke};
pub use metadata::{certs, discovery, realm_info};
pub use token::token;

use axum::{
    body::Bytes,
    extract::{FromRequest, Request, rejection::BytesRejection},
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use secrecy::SecretString;

use super::{
    basic::{self, BasicCredentials},
    error::json_error,
    form::{Form, FormError},
};
use crate::oauth::{ClientAuth, ErrorCode, OAuthError};

const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The body of a request to a form-encoded endpoint; refused with 415, 413 or 400.
pub struct FormBody(pub Form);

impl<S: Send + Sync> FromRequest<S> for FormBody {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let content_type = request.headers().get(header::CONTENT_TYPE).cloned();
        let body = Bytes::from_request(request, state).await;
        read_form(content_type.as_ref(), body)
            .map(FormBody)
            .map_err(|(status, description)| {
                no_store(json_error(
                    status,
                    ErrorCode::InvalidRequest.as_str(),
                    description,
                ))
            })
    }
}

/// How the client authenticates: a `client_assertion` (private_key_jwt), or id and secret from
/// the body or HTTP Basic. As in Keycloak, body values win over the header's; a malformed header
/// only matters when the body names no client.
fn client_auth(form: &Form, authorization: Option<&HeaderValue>) -> Result<ClientAuth, OAuthError> {
    if let Some(assertion) = form.get("client_assertion") {
        return Ok(ClientAuth::Assertion {
            client_id: form.get("client_id").map(str::to_owned),
            assertion_type: form.get("client_assertion_type").map(str::to_owned),
            assertion: SecretString::from(assertion),
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

/// The realm to name in a `WWW-Authenticate: Basic` challenge, if the client authenticated (or
/// tried to) with the Authorization header rather than the body (RFC 6749 5.2).
fn basic_challenge<'r>(
    form: &Form,
    authorization: Option<&HeaderValue>,
    realm: &'r str,
) -> Option<&'r str> {
    let body_credentials =
        form.get("client_secret").is_some() || form.get("client_assertion").is_some();
    (authorization.is_some() && !body_credentials).then_some(realm)
}

/// Checks the content type and reads the form; failures are 415, 413 or 400 `invalid_request`.
fn read_form(
    content_type: Option<&HeaderValue>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Form, (StatusCode, &'static str)> {
    if let Some(content_type) = content_type {
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
            FormError::TooManyParameters => "Too many parameters",
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
        ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = json_error(status, error.code.as_str(), &error.description);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
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
