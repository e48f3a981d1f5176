//! The HTTP surface: routing, one module per wire dialect, error rendering, probes, middleware.

mod basic;
mod error;
mod form;
mod frontier;
mod health;
mod keycloak;
mod middleware;

use std::{sync::Arc, time::Duration};

use axum::{
    Router,
    extract::{DefaultBodyLimit, FromRequestParts, Path},
    http::{StatusCode, request::Parts},
    response::Response,
    routing::{get, post},
};
use tower_http::{
    request_id::{PropagateRequestIdLayer, SetRequestIdLayer},
    timeout::TimeoutLayer,
    trace::TraceLayer,
};

use crate::{
    oauth::TokenService,
    store::{
        Store,
        cache::{Cache, RealmState},
    },
};

/// Larger request bodies are refused with 413. Token requests, even with assertions, are small.
pub const BODY_LIMIT: usize = 64 * 1024;
/// A request (including reading its body) that takes longer is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct AppState {
    pub cache: Arc<Cache>,
    pub tokens: Arc<TokenService>,
    pub store: Arc<dyn Store>,
    /// The realm behind the Frontier-compatible endpoints, if they are on.
    pub frontier_realm: Option<Arc<str>>,
    /// Whether readiness last said `degraded` (to log changes only).
    pub degraded: Arc<std::sync::atomic::AtomicBool>,
}

pub fn router(state: AppState) -> Router {
    let realm_routes = Router::new()
        .route("/", get(keycloak::realm_info))
        .route(
            "/protocol/openid-connect/token",
            post(keycloak::token).fallback(|| async { error::method_not_allowed("POST") }),
        )
        .route(
            "/protocol/openid-connect/token/introspect",
            post(keycloak::introspect).fallback(|| async { error::method_not_allowed("POST") }),
        )
        .route(
            "/protocol/openid-connect/revoke",
            post(keycloak::revoke).fallback(|| async { error::method_not_allowed("POST") }),
        )
        .route(
            "/.well-known/openid-configuration",
            get(keycloak::discovery),
        )
        .route("/protocol/openid-connect/certs", get(keycloak::certs));
    let method_not_allowed = || async { error::method_not_allowed("POST") };
    Router::new()
        .nest("/realms/{realm}", realm_routes)
        .route(
            "/v1beta1/auth/token",
            post(frontier::token).fallback(method_not_allowed),
        )
        .route(
            "/raystack.frontier.v1beta1.FrontierService/AuthToken",
            post(frontier::connect_token).fallback(method_not_allowed),
        )
        .route("/.well-known/jwks.json", get(frontier::jwks))
        .route("/v1beta1/auth/jwks", get(frontier::jwks))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        .fallback(error::endpoint_not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(middleware::make_span)
                .on_response(middleware::on_response),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(middleware::RequestIds))
        .with_state(state)
}

/// The realm named in the path, from the cache; unknown realms are answered 404.
pub struct RealmContext(pub Arc<RealmState>);

impl FromRequestParts<AppState> for RealmContext {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Path(name) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| error::realm_not_found())?;
        state
            .cache
            .directory()
            .realm(&name)
            .cloned()
            .map(RealmContext)
            .ok_or_else(error::realm_not_found)
    }
}
