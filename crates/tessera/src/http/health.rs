//! Liveness and readiness probes, and metrics.

use std::{sync::atomic::Ordering, time::Duration};

use axum::{Json, extract::State, http::StatusCode, response::IntoResponse};
use serde_json::json;

use super::AppState;

/// The process is up and serving HTTP.
pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "up" }))
}

/// The cache is stale once it has not been checked against the store for this long.
const STALE_AFTER: Duration = Duration::from_secs(10);

/// Ready to issue tokens: always, once started, since tokens come from the in-memory cache. When
/// the database does not answer (within a second), or the cache has not been refreshed for a
/// while, the status is `degraded`, with the reason: a load balancer keeps the instance
/// (pulling every instance at once would turn a database outage into a full one) and monitoring
/// sees the outage. Changes of state are logged.
pub async fn ready(State(app): State<AppState>) -> impl IntoResponse {
    let answered = tokio::time::timeout(Duration::from_secs(1), app.store.ping()).await;
    let stale = app.cache.staleness();
    let reason = match answered {
        Ok(Ok(())) if stale < STALE_AFTER => None,
        Ok(Ok(())) => Some(format!(
            "realms and clients not refreshed for {} s; serving cached ones",
            stale.as_secs()
        )),
        _ => Some("database unreachable; serving cached realms and clients".to_owned()),
    };
    let was_degraded = app.degraded.swap(reason.is_some(), Ordering::Relaxed);
    match &reason {
        Some(reason) if !was_degraded => tracing::warn!(%reason, "readiness: degraded"),
        None if was_degraded => tracing::info!("readiness: ready again"),
        _ => {}
    }
    let body = match reason {
        None => json!({ "status": "ready" }),
        Some(reason) => json!({ "status": "degraded", "reason": reason }),
    };
    (StatusCode::OK, Json(body))
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
