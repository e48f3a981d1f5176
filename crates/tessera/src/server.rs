//! Runs the HTTP server on a bound listener until a shutdown signal, then drains.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use tokio::net::TcpListener;

use crate::{
    clock::Clock,
    http::{self, AppState},
    oauth::TokenService,
    secret::SecretHasher,
    store::{Store, StoreError, cache::Cache},
};

/// In-flight requests get this long to finish after a shutdown signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `listener` with issuers under `public_url` until `shutdown`
/// completes; then stops accepting, lets in-flight requests finish (up to [`DRAIN_TIMEOUT`]).
pub async fn serve(
    listener: TcpListener,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    public_url: String,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let hasher = SecretHasher::new(&store.secret_hash_key().await?);
    let public_url = public_url.trim_end_matches('/').to_owned();
    let cache = Arc::new(Cache::load(Arc::clone(&store), public_url).await?);
    let refresher = tokio::spawn(Arc::clone(&cache).keep_fresh());
    let app = http::router(AppState {
        cache,
        tokens: Arc::new(TokenService::new(hasher, clock)),
        store,
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
    result
}
