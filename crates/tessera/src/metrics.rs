//! Counters an operator (and a test) can read at `GET /metrics`, in Prometheus' text format.
//! One atomic increment per token request: nothing measurable on the token path.

use std::{
    fmt::Write,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::oauth::ErrorCode;

const CODES: [ErrorCode; 7] = [
    ErrorCode::InvalidRequest,
    ErrorCode::InvalidClient,
    ErrorCode::InvalidGrant,
    ErrorCode::UnauthorizedClient,
    ErrorCode::UnsupportedGrantType,
    ErrorCode::InvalidScope,
    ErrorCode::ServerError,
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

    pub fn render(&self) -> String {
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
        text
    }
}
