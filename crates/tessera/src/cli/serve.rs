use std::{net::SocketAddr, sync::Arc};

use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use tokio::net::TcpListener;

use super::CliError;
use crate::{
    admin::{self, NewClient, NewRealm, SecretSource},
    clock::{Clock, SystemClock},
    config::{LogFormat, Overrides, Settings},
    keys::SigningAlg,
    secret::SecretHasher,
    server,
    store::{self, Store},
};

const DEV_REALM: &str = "dev";
const DEV_CLIENT: &str = "demo";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "TESSERA_LISTEN", value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// URL clients reach this server at; issuers derive from it [default: http://<listen>]
    #[arg(long, env = "TESSERA_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Log filter, e.g. `info` or `warn,tessera=debug` [default: info]
    #[arg(long, env = "TESSERA_LOG", value_name = "FILTER")]
    log: Option<String>,
    /// Log line format [default: text]
    #[arg(long, env = "TESSERA_LOG_FORMAT", value_name = "FORMAT")]
    log_format: Option<LogFormat>,
    /// Serve the Frontier-compatible token API (/v1beta1/auth/token) for this realm
    /// [default: off; `dev` in dev mode]
    #[arg(long, env = "TESSERA_FRONTIER_REALM", value_name = "REALM")]
    frontier_realm: Option<String>,
    /// How far ahead a client assertion's exp may be, in seconds [default: 600]
    #[arg(long, env = "TESSERA_ASSERTION_MAX_LIFETIME", value_name = "SECS")]
    assertion_max_lifetime: Option<u64>,
    /// Development mode: create realm `dev` and client `demo` on first start and print a
    /// working curl command
    #[arg(long)]
    pub dev: bool,
}

impl ServeArgs {
    pub fn apply(&self, overrides: &mut Overrides) {
        overrides.listen = self.listen;
        overrides.public_url.clone_from(&self.public_url);
        overrides.log.clone_from(&self.log);
        overrides.log_format = self.log_format;
        overrides.frontier_realm.clone_from(&self.frontier_realm);
        overrides.assertion_max_lifetime = self.assertion_max_lifetime;
    }
}

pub async fn run(mut settings: Settings, dev: bool) -> Result<(), CliError> {
    let store = store::open(&settings.database_url, settings.database_options()).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let dev_secret = if dev {
        settings
            .frontier_realm
            .get_or_insert_with(|| DEV_REALM.to_owned());
        create_dev_client(store.as_ref(), clock.as_ref()).await?
    } else {
        None
    };
    let listener = TcpListener::bind(settings.listen)
        .await
        .map_err(|e| CliError::Message(format!("cannot listen on {}: {e}", settings.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|e| CliError::Message(format!("cannot read the bound address: {e}")))?;
    let public_url = public_url(settings.public_url.as_deref(), address)?;
    if settings.public_url.is_none() && address.ip().is_unspecified() {
        tracing::warn!(%public_url, "listening on all interfaces without --public-url: token issuers will name an unroutable host");
    }
    tracing::info!(%address, %public_url, "listening");
    if dev {
        print_dev_banner(&public_url, dev_secret.as_ref());
    }
    if let Some(realm) = &settings.frontier_realm {
        tracing::info!(%realm, "Frontier token API enabled");
    }
    let options = server::Options {
        frontier_realm: settings.frontier_realm,
        assertion_max_lifetime: settings.assertion_max_lifetime,
        ..server::Options::new(public_url)
    };
    server::serve(listener, store, clock, options, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// The public URL without a trailing slash; only http(s) URLs without query or fragment.
fn public_url(configured: Option<&str>, address: SocketAddr) -> Result<String, CliError> {
    let Some(url) = configured else {
        return Ok(format!("http://{address}"));
    };
    let url = url.trim_end_matches('/');
    let has_scheme = url.starts_with("http://") || url.starts_with("https://");
    if !has_scheme
        || url.contains(['?', '#', ' '])
        || url.split("://").nth(1).is_none_or(str::is_empty)
    {
        return Err(CliError::Message(format!(
            "invalid public URL '{url}': expected http(s)://host[:port][/path]"
        )));
    }
    Ok(url.to_owned())
}

/// Creates realm `dev` and its client `demo` where missing; returns the new client's secret.
async fn create_dev_client(
    store: &dyn Store,
    clock: &dyn Clock,
) -> Result<Option<SecretString>, CliError> {
    let realm = match store.realm(DEV_REALM).await? {
        Some(realm) => realm,
        None => {
            let new = NewRealm {
                name: DEV_REALM.into(),
                token_lifetime: None,
                signing_alg: SigningAlg::RS256,
                strict_assertions: false,
            };
            admin::create_realm(store, clock, new).await?
        }
    };
    let clients = store.clients(&realm.id).await?;
    if clients.iter().any(|c| c.client_id == DEV_CLIENT) {
        return Ok(None);
    }
    let hasher = SecretHasher::new(&store.secret_hash_key().await?);
    let client = NewClient {
        client_id: DEV_CLIENT.into(),
        scopes: vec!["write".into(), "tenant/*".into()],
        default_scopes: vec!["read".into()],
        audience: vec![],
        token_lifetime: None,
        grant_types: vec![],
    };
    Ok(admin::create_client(
        store,
        &hasher,
        clock,
        &realm,
        client,
        SecretSource::Generate,
    )
    .await?)
}

fn print_dev_banner(public_url: &str, secret: Option<&SecretString>) {
    let token_url = format!("{public_url}/realms/{DEV_REALM}/protocol/openid-connect/token");
    println!("Tessera dev mode: realm '{DEV_REALM}', client '{DEV_CLIENT}'.");
    match secret {
        Some(secret) => {
            let secret = secret.expose_secret();
            println!("Client secret (shown only this once): {secret}");
            println!("Get a token:");
            println!(
                "  curl -s -u {DEV_CLIENT}:{secret} -d grant_type=client_credentials {token_url}"
            );
        }
        None => {
            println!("The client was created earlier and its secret shown then. For a new one:");
            println!("  tessera client rotate-secret --realm {DEV_REALM} {DEV_CLIENT}");
            println!("Get a token:");
            println!(
                "  curl -s -u {DEV_CLIENT}:$SECRET -d grant_type=client_credentials {token_url}"
            );
        }
    }
    println!("Keys: {public_url}/realms/{DEV_REALM}/protocol/openid-connect/certs");
}

/// Completes on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested; draining in-flight requests");
}
