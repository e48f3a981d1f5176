//! Liveness and readiness probes, and metrics.

use std::time::Duration;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use super::AppState;

/// The process is up and serving HTTP.
pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "up" }))
}

/// Ready to issue tokens: always, once started, since tokens come from the in-memory cache. When
/// the database does not answer (within a second), the status is `degraded`, with the reason: a
/// load balancer keeps the instance (pulling every instance at once would turn a database
/// outage into a full one) and monitoring sees the outage.
pub async fn ready(State(app): State<AppState>) -> impl IntoResponse {
    let reason = match tokio::time::timeout(Duration::from_secs(1), app.store.ping()).await {
        Ok(Ok(())) => return (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Ok(Err(error)) => {
            format!("database unreachable: {error}; serving cached realms and clients")
        }
        Err(_) => {
            "database did not answer within 1 s; serving cached realms and clients".to_owned()
        }
    };
    tracing::warn!(%reason, "readiness: degraded");
    (
        StatusCode::OK,
        Json(json!({ "status": "degraded", "reason": reason })),
    )
}

/// Prometheus text format.
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.tokens.metrics.render(&app.store.operations()),
    )
}
