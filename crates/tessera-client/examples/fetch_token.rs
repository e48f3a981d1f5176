//! Gets a token and calls a resource server with it.
//!
//! ```sh
//! TESSERA_ISSUER=http://127.0.0.1:8080/realms/dev CLIENT_ID=demo CLIENT_SECRET=… \
//!     RESOURCE_URL=http://127.0.0.1:3000/whoami cargo run -p tessera-client --example fetch_token
//! ```

use secrecy::SecretString;
use tessera_client::{BearerAuth, TokenSource};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).map_err(|_| format!("set {name}"));
    let tokens = TokenSource::builder(env("CLIENT_ID")?)
        .issuer(env("TESSERA_ISSUER")?)
        .client_secret(SecretString::from(env("CLIENT_SECRET")?))
        .build()
        .await?;
    let token = tokens.token().await?;
    println!(
        "got a token; scope {:?}, valid until {:?}",
        token.scope, token.expires_at
    );

    if let Ok(url) = env("RESOURCE_URL") {
        let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(BearerAuth::new(tokens))
            .build();
        let response = http.get(&url).send().await?;
        println!("{url}: {} {}", response.status(), response.text().await?);
    }
    Ok(())
}
