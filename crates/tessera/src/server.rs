//! Runs the HTTP server on a bound listener until a shutdown signal, then drains.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use tokio::net::TcpListener;

use crate::{
    clock::Clock,
    http::{self, AppState},
    oauth::TokenService,
    secret::SecretHasher,
    store::{
        self, Store, StoreError,
        cache::{Cache, Urls},
    },
};

/// What a server needs besides its listener, store and clock.
#[derive(Debug, Clone)]
pub struct Options {
    /// Base URL clients reach the server at; token issuers derive from it.
    pub public_url: String,
    /// The realm the Frontier-compatible endpoints serve, if any.
    pub frontier_realm: Option<String>,
    /// How far ahead a client assertion's `exp` may be, in seconds.
    pub assertion_max_lifetime: u64,
    /// How often expired records (used assertion ids, revocations, rotated-out keys) are
    /// deleted.
    pub purge_interval: Duration,
}

impl Options {
    pub fn new(public_url: impl Into<String>) -> Self {
        Options {
            public_url: public_url.into(),
            frontier_realm: None,
            assertion_max_lifetime: 600,
            purge_interval: Duration::from_secs(60),
        }
    }
}

/// In-flight requests get this long to finish after a shutdown signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `listener` until `shutdown` completes; then stops accepting and lets in-flight
/// requests finish (up to [`DRAIN_TIMEOUT`]).
pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    options: Options,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let hasher = SecretHasher::new(&store.secret_hash_key().await?);
    let urls = Urls {
        public_url: options.public_url.trim_end_matches('/').to_owned(),
        frontier_realm: options.frontier_realm.clone(),
    };
    let cache = Arc::new(Cache::load(Arc::clone(&store), urls).await?);
    let refresher = tokio::spawn(Arc::clone(&cache).keep_fresh());
    let purger = tokio::spawn(store::purge_periodically(
        Arc::clone(&store),
        Arc::clone(&clock),
        options.purge_interval,
    ));
    let tokens = TokenService::new(
        hasher,
        clock,
        Arc::clone(&store),
        options.assertion_max_lifetime,
    );
    let app = http::router(AppState {
        cache,
        tokens: Arc::new(tokens),
        store,
        frontier_realm: options.frontier_realm.map(Arc::from),
        degraded: Arc::default(),
    });

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stopped(stop_rx.clone()));
    let drain_deadline = async {
        stopped(stop_rx).await;
        tokio::time::sleep(DRAIN_TIMEOUT).await;
    };
    let result = tokio::select! {
        result = server => result.map_err(ServerError::from),
        () = drain_deadline => {
            tracing::warn!("requests still running after the drain timeout; exiting anyway");
            Ok(())
        }
    };
    refresher.abort();
    purger.abort();
    result
}
