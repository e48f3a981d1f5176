use std::borrow::Cow;

/// RFC 6749 5.2 error codes (plus `server_error` for failures on our side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    ServerError,
    /// RFC 6749 4.1.2.1 / RFC 7009 2.2.1: a dependency (the database) is away; try later.
    TemporarilyUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// A protocol error: code and a human-readable description that never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: Cow<'static, str>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError {
            code,
            description: description.into(),
        }
    }

    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    /// The one answer for an unknown client, a disabled one and a wrong secret, so none can be
    /// told apart (Keycloak's wording).
    pub fn bad_client_credentials() -> Self {
        Self::invalid_client("Invalid client or Invalid client credentials")
    }

    pub fn server_error() -> Self {
        Self::new(ErrorCode::ServerError, "Internal server error")
    }

    /// For a failed write: the database being away is temporary, anything else is ours.
    pub fn from_store(error: &crate::store::StoreError, doing: &str) -> Self {
        tracing::error!(%error, "cannot {doing}");
        match error {
            crate::store::StoreError::Unavailable(_) => Self::new(
                ErrorCode::TemporarilyUnavailable,
                format!("Cannot {doing} now; try again shortly"),
            ),
            _ => Self::server_error(),
        }
    }
}
