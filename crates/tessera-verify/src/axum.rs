//! axum/tower integration: a layer that verifies the Bearer token of every request and an
//! extractor that hands the verified [`Claims`] to handlers.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use axum::{
    Json,
    extract::{FromRequestParts, Request},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde_json::json;
use tower::{Layer, Service};

use crate::{Claims, Verifier, VerifyError};

/// Verifies `Authorization: Bearer …` (and the required scopes) before the inner service runs;
/// refuses with 401/403 and an RFC 6750 `WWW-Authenticate` header otherwise.
#[derive(Clone)]
pub struct VerifyLayer {
    verifier: Verifier,
    scopes: Arc<[String]>,
}

impl VerifyLayer {
    pub fn new(verifier: Verifier) -> Self {
        VerifyLayer {
            verifier,
            scopes: Arc::new([]),
        }
    }

    /// Scopes every request must carry.
    pub fn require_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = VerifyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`VerifyLayer`] wraps around routes.
#[derive(Clone)]
pub struct VerifyService<S> {
    inner: S,
    layer: VerifyLayer,
}

impl<S> Service<Request> for VerifyService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The clone that was polled ready handles this request.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            let verified = match bearer_token(request.headers()) {
                Some(token) => {
                    layer
                        .verifier
                        .verify_with_scopes(token, &layer.scopes)
                        .await
                }
                None => Err(VerifyError::MissingToken),
            };
            match verified {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    inner.call(request).await
                }
                Err(error) => Ok(error.into_response()),
            }
        })
    }
}

/// The token of `Authorization: Bearer <token>`.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

impl IntoResponse for VerifyError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        let mut response = match &self {
            VerifyError::MissingToken => status.into_response(),
            VerifyError::InsufficientScope(_) => (
                status,
                Json(json!({"error": "insufficient_scope", "error_description": self.to_string()})),
            )
                .into_response(),
            VerifyError::Unavailable(_) => (
                status,
                Json(json!({"error": "temporarily_unavailable", "error_description": self.to_string()})),
            )
                .into_response(),
            _ => (
                status,
                Json(json!({"error": "invalid_token", "error_description": self.to_string()})),
            )
                .into_response(),
        };
        if status != StatusCode::SERVICE_UNAVAILABLE {
            if let Ok(value) = HeaderValue::from_str(&self.challenge()) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

/// The claims [`VerifyLayer`] verified. Using it on a route without the layer is a programming
/// error, answered 500.
impl<S: Send + Sync> FromRequestParts<S> for Claims {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Claims>().cloned().ok_or_else(|| {
            tracing::error!("Claims extracted on a route without VerifyLayer");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        })
    }
}
