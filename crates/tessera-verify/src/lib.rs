//! Verify OAuth 2.0 JWT access tokens from Tessera (or Keycloak, or any issuer publishing a
//! JWKS) in Rust services.
//!
//! A [`Verifier`] checks the signature with the issuer's published keys (the algorithm is the
//! key's, never the token's choice), `exp`/`nbf` with leeway, `iss` and `aud`, and optionally
//! asks the issuer whether the token is still active (online mode, for revocation). Keys are
//! cached; a token naming an unknown key id triggers one refetch, at most once per cooldown, so a
//! signing-key rotation is picked up at once and made-up key ids cannot flood the issuer.
//!
//! With the `axum` feature (on by default), [`VerifyLayer`] protects routes and handlers take
//! the verified [`Claims`]:
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use tessera_verify::{Claims, Verifier, VerifyLayer};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let verifier = Verifier::builder()
//!     .issuer("https://auth.example.com/realms/prod")
//!     .audience("orders")
//!     .build()
//!     .await?;
//! let app: Router = Router::new()
//!     .route("/orders", get(|claims: Claims| async move {
//!         format!("hello, {}", claims.client_id().unwrap_or("?"))
//!     }))
//!     .layer(VerifyLayer::new(verifier).require_scopes(["orders:read"]));
//! # Ok(()) }
//! ```
//!
//! Refusals are 401 (`invalid_token`, or no token), 403 (`insufficient_scope`) with an
//! RFC 6750 `WWW-Authenticate` header, or 503 when the issuer cannot be reached to check.
//!
//! Supported algorithms: RS256, ES256 and EdDSA (Ed25519).

mod alg;
#[cfg(feature = "axum")]
mod axum;
mod claims;
mod error;
mod http_client;
mod introspection;
mod jwk;
mod jwks;
mod jws;
mod key;
pub mod pem;
mod verifier;

pub use alg::SigningAlg;
#[cfg(feature = "axum")]
pub use axum::{VerifyLayer, VerifyService, bearer_token};
pub use claims::Claims;
pub use error::{BuildError, VerifyError};
pub use jwk::{Jwk, JwkParams, JwkSet};
pub use jws::{Jws, JwsError, JwsHeader};
pub use key::{PublicKeyError, VerifyingKey};
pub use verifier::{Clock, Verifier, VerifierBuilder, discover};
