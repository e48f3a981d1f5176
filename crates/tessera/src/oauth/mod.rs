//! The protocol core: grants, client authentication, scopes and the token request. It knows no
//! HTTP, SQL or wire format; each dialect adapter in `http` turns requests into these types.

pub mod assertion;
mod client_auth;
mod error;
mod grant;
mod introspection;
pub mod scope;
mod token_request;

pub use error::{ErrorCode, OAuthError};
pub use grant::GrantType;
pub use token_request::{
    CLIENT_ASSERTION_TYPE, ClientAuth, Dialect, IssuedToken, TokenRequest, TokenService,
};
