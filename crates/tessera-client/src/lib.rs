//! Access tokens for Rust services, the way they should be handled: a [`TokenSource`] caches the
//! token and refreshes it ahead of expiry (by default at 80% of its lifetime, or 30 s before if
//! that comes first, with jitter). One refresh runs at a time, in a task of its own: while the
//! current token is valid callers keep getting it; callers without a valid token wait for that
//! one refresh and all get its outcome (1,000 callers, one request). A failed refresh keeps the
//! valid token in use; network errors, 429 and 5xx are retried with exponential backoff and
//! jitter (a `Retry-After` longer than the policy allows ends the retries), never
//! `invalid_client` or `invalid_scope`, which come back as typed [`Error`]s.
//!
//! It works with any RFC 6749 server (Tessera, Keycloak), and with Raystack Frontier
//! ([`TokenSourceBuilder::json_body`]).
//!
//! ```no_run
//! use secrecy::SecretString;
//! use tessera_client::{BearerAuth, TokenSource};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let tokens = TokenSource::builder("orders-svc")
//!     .issuer("https://auth.example.com/realms/prod")
//!     .client_secret(SecretString::from(std::fs::read_to_string("/run/secrets/orders")?.trim()))
//!     .scope("inventory:read")
//!     .build()
//!     .await?;
//!
//! // Either ask for the token yourself…
//! let token = tokens.token().await?;
//! println!("expires at {:?}", token.expires_at);
//!
//! // …or let every request of a client carry it (and retry once on a 401).
//! let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(BearerAuth::new(tokens))
//!     .build();
//! let stock = http.get("https://inventory.example.com/stock").send().await?;
//! # Ok(()) }
//! ```
//!
//! With a private key instead of a secret (`tessera client key create --output json` writes the
//! credentials file), each request carries a fresh RFC 7523 assertion:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use tessera_client::{KeySigner, TokenSource};
//! let (signer, client_id) =
//!     KeySigner::from_credentials_json(&std::fs::read_to_string("batch-svc.json")?)?;
//! let tokens = TokenSource::builder(client_id.unwrap_or_default())
//!     .issuer("https://auth.example.com/realms/prod")
//!     .private_key(signer)
//!     .build()
//!     .await?;
//! # Ok(()) }
//! ```

mod error;
mod middleware;
mod signer;
mod source;

pub use error::Error;
pub use middleware::BearerAuth;
pub use signer::KeySigner;
pub use source::{AccessToken, Credential, KeyGrant, RetryPolicy, TokenSource, TokenSourceBuilder};
