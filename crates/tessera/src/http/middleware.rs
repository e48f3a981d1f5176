//! Request ids and a log line per request. Only method, path (never the query), status and
//! latency are logged: no header, body, secret or token. Requests answered with an error are
//! logged at INFO; successful ones at DEBUG (at INFO the line would cost about a third of an
//! ES256 token).

use std::{
    sync::{
        LazyLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    body::Body,
    http::{HeaderValue, Request, Response},
};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Span;

/// Random per process, so ids stay unique across restarts and instances.
static ID_PREFIX: LazyLock<u64> = LazyLock::new(|| {
    let mut bytes = [0u8; 8];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    u64::from_le_bytes(bytes)
});
static ID_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Request ids from a random process prefix and a counter: unique, and cheap to make.
#[derive(Clone, Copy, Default)]
pub struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let n = ID_COUNTER.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:016x}{n:016x}", *ID_PREFIX);
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

pub fn make_span(request: &Request<Body>) -> Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = request.uri().path(),
        request_id,
    )
}

pub fn on_response(response: &Response<Body>, latency: Duration, _span: &Span) {
    let status = response.status().as_u16();
    let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    if status >= 400 {
        tracing::info!(status, latency_us, "served");
    } else {
        tracing::debug!(status, latency_us, "served");
    }
}
