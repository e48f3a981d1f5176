//! Counters an operator (and a test) can read at `GET /metrics`, in Prometheus' text format.
//! One atomic increment per token request: nothing measurable on the token path.

use std::{
    fmt::Write,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::oauth::ErrorCode;

const CODES: [ErrorCode; 8] = [
    ErrorCode::InvalidRequest,
    ErrorCode::InvalidClient,
    ErrorCode::InvalidGrant,
    ErrorCode::UnauthorizedClient,
    ErrorCode::UnsupportedGrantType,
    ErrorCode::InvalidScope,
    ErrorCode::ServerError,
    ErrorCode::TemporarilyUnavailable,
];

#[derive(Debug, Default)]
pub struct Metrics {
    issued: AtomicU64,
    refused: [AtomicU64; CODES.len()],
}

impl Metrics {
    pub fn token_issued(&self) {
        self.issued.fetch_add(1, Ordering::Relaxed);
    }

    pub fn token_refused(&self, code: ErrorCode) {
        if let Some(i) = CODES.iter().position(|c| *c == code) {
            self.refused[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The token counters and the store's `operations` counts.
    pub fn render(&self, operations: &[(&'static str, u64)]) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "# HELP tessera_tokens_issued_total Access tokens issued."
        );
        let _ = writeln!(text, "# TYPE tessera_tokens_issued_total counter");
        let _ = writeln!(
            text,
            "tessera_tokens_issued_total {}",
            self.issued.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            text,
            "# HELP tessera_token_requests_refused_total Token requests refused, by OAuth error."
        );
        let _ = writeln!(text, "# TYPE tessera_token_requests_refused_total counter");
        for (code, count) in CODES.iter().zip(&self.refused) {
            let _ = writeln!(
                text,
                "tessera_token_requests_refused_total{{error=\"{}\"}} {}",
                code.as_str(),
                count.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            text,
            "# HELP tessera_database_operations_total Store operations run, by operation."
        );
        let _ = writeln!(text, "# TYPE tessera_database_operations_total counter");
        for (operation, count) in operations {
            let _ = writeln!(
                text,
                "tessera_database_operations_total{{operation=\"{operation}\"}} {count}"
            );
        }
        text
    }
}
