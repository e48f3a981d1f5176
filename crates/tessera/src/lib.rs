//! Tessera: an OAuth 2.0 authorization server for machine-to-machine tokens that speaks
//! Keycloak's token API on the wire.

pub mod admin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod oauth;
pub mod random;
pub mod secret;
pub mod server;
pub mod store;
pub mod token;
