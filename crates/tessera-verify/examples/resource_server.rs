//! A resource server protected by tessera-verify.
//!
//! ```sh
//! TESSERA_ISSUER=http://127.0.0.1:8080/realms/dev \
//!     cargo run -p tessera-verify --example resource_server
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/whoami
//! ```
//!
//! Settings (environment): `TESSERA_ISSUER` (required), `AUDIENCE` (default `account`),
//! `LISTEN` (default `127.0.0.1:3000`), and for online mode (revoked tokens refused)
//! `INTROSPECTION_CLIENT_ID` with `INTROSPECTION_CLIENT_SECRET`.

use std::time::Duration;

use axum::{Json, Router, routing::get};
use serde_json::{Value, json};
use tessera_verify::{Claims, Verifier, VerifyLayer};

/// `/whoami` takes any valid token; `/orders` needs scope `orders:read`.
pub fn app(verifier: Verifier) -> Router {
    let orders = Router::new()
        .route("/orders", get(orders))
        .layer(VerifyLayer::new(verifier.clone()).require_scopes(["orders:read"]));
    let whoami = Router::new()
        .route("/whoami", get(whoami))
        .layer(VerifyLayer::new(verifier));
    Router::new().merge(orders).merge(whoami)
}

async fn whoami(claims: Claims) -> Json<Value> {
    Json(json!({
        "client_id": claims.client_id(),
        "sub": claims.subject(),
        "scopes": claims.scopes().collect::<Vec<_>>(),
    }))
}

async fn orders(claims: Claims) -> Json<Value> {
    Json(json!({ "orders": [], "for": claims.client_id() }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = std::env::var("TESSERA_ISSUER").map_err(|_| "set TESSERA_ISSUER")?;
    let audience = std::env::var("AUDIENCE").unwrap_or_else(|_| "account".into());
    let mut builder = Verifier::builder().issuer(issuer).audience(audience);
    if let (Ok(id), Ok(secret)) = (
        std::env::var("INTROSPECTION_CLIENT_ID"),
        std::env::var("INTROSPECTION_CLIENT_SECRET"),
    ) {
        builder = builder.introspection(id, secret.into(), Duration::from_secs(10));
    }
    let verifier = builder.build().await?;
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("listening on http://{listen}");
    axum::serve(listener, app(verifier)).await?;
    Ok(())
}
