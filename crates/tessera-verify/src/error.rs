use crate::JwsError;

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("no bearer token")]
    MissingToken,
    #[error("the token is not a valid JWT: {0}")]
    Jws(JwsError),
    #[error("the token's claims are not a JSON object")]
    Claims,
    #[error("the token is signed with an unknown key")]
    UnknownKey,
    #[error("the token has no exp claim")]
    MissingExpiry,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    #[error("the token is not meant for this audience")]
    WrongAudience,
    #[error("the token is not active (revoked, or its client disabled)")]
    Inactive,
    #[error("the token lacks scope {}", .0.join(" "))]
    InsufficientScope(Vec<String>),
    #[error("cannot check the token now: {0}")]
    Unavailable(String),
}

impl VerifyError {
    /// The HTTP status a resource server answers with (RFC 6750 3.1).
    pub fn status(&self) -> u16 {
        match self {
            VerifyError::InsufficientScope(_) => 403,
            VerifyError::Unavailable(_) => 503,
            _ => 401,
        }
    }

    /// The RFC 6750 `WWW-Authenticate` challenge for this error.
    pub fn challenge(&self) -> String {
        match self {
            VerifyError::MissingToken => "Bearer".to_owned(),
            VerifyError::InsufficientScope(scopes) => format!(
                r#"Bearer error="insufficient_scope", error_description="{self}", scope="{}""#,
                scopes.join(" ")
            ),
            _ => format!(r#"Bearer error="invalid_token", error_description="{self}""#),
        }
    }
}

/// Why a [`Verifier`](crate::Verifier) could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Config(&'static str),
    #[error("cannot set up the HTTP client: {0}")]
    Http(String),
    #[error("cannot fetch {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("discovery at {url} names issuer {found}, not {expected}")]
    IssuerMismatch {
        url: String,
        found: String,
        expected: String,
    },
}
