/// Why no token could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The server does not accept the client's credentials. Not retried.
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    /// The client may not have the requested scope. Not retried.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// Another refusal by the server (RFC 6749 5.2). Not retried.
    #[error("token request refused with {status} {error}: {description}")]
    Refused {
        status: u16,
        error: String,
        description: String,
    },
    /// The server could not be reached, or kept failing, through every retry.
    #[error("no token after {attempts} attempts: {last}")]
    Unavailable { attempts: u32, last: String },
    /// The issuer's discovery document could not be used.
    #[error("discovery failed: {0}")]
    Discovery(String),
    /// The configured credentials cannot be used (unreadable file, bad key).
    #[error("unusable credentials: {0}")]
    Credentials(String),
}
