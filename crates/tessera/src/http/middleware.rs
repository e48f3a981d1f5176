//! Request ids and one log line per request. Only method, path (never the query), status and
//! latency are logged: no header, body, secret or token.

use std::time::Duration;

use axum::{
    body::Body,
    http::{HeaderValue, Request, Response},
};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Span;

#[derive(Clone, Copy, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let id = crate::random::uuid()?;
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
    tracing::info!(
        status = response.status().as_u16(),
        latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
        "served"
    );
}
