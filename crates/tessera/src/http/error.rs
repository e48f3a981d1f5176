//! JSON error responses in the OAuth shape `{"error", "error_description"}`.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

/// `{"error": code, "error_description": description}` with `status`.
pub fn json_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

pub fn realm_not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not_found", "Realm does not exist")
}

/// Fallback for paths no route serves.
pub async fn endpoint_not_found() -> Response {
    json_error(StatusCode::NOT_FOUND, "not_found", "No such endpoint")
}

/// Fallback for a known path used with the wrong method.
pub fn method_not_allowed(allow: &'static str) -> Response {
    let mut response = json_error(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        &format!("HTTP method not allowed; use {allow}"),
    );
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}
