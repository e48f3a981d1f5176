//! Integration tests: the real server on a free port, a fresh database per test, HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod admin_cli;
mod assertions;
mod client;
mod client_auth;
mod compat;
mod discovery;
mod frontier;
mod introspection;
mod malformed;
mod many_instances;
mod operations;
mod scopes;
mod token;
mod verify;
