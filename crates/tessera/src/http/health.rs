//! Liveness and readiness probes, and metrics.

use std::time::Duration;

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use super::AppState;

/// The process is up and serving HTTP.
pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "up" }))
}

/// The database answers within a second.
pub async fn ready(State(app): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(Duration::from_secs(1), app.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        failure => {
            let reason = match failure {
                Ok(Err(error)) => {
                    tracing::warn!(%error, "readiness check failed");
                    "database error"
                }
                _ => "database did not answer within 1s",
            };
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": reason })),
            )
        }
    }
}

/// Prometheus text format.
pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        app.tokens.metrics.render(),
    )
}
