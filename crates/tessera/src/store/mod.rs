//! Persistence. One `Store` trait, one implementation per database. The token path reads the
//! in-memory [`cache`]; the only write on it is a used assertion id (single-use `jti`).

pub mod cache;
mod model;
mod postgres;
mod sql;
mod sqlite;

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use secrecy::SecretBox;
use tokio::sync::Notify;

use crate::clock::UnixTime;

pub use model::{Client, ClientKey, Contents, Realm, RealmKey, RevokedToken};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("unsupported database URL scheme '{0}': use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot reach the database: {0}")]
    Unavailable(String),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        let unreachable = match &error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // PostgreSQL going away or refusing for now: connection exceptions (08), shutdown
            // and cancels (57P0x, 57014), too busy (53), read-only after a failover (25006).
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                code.starts_with("08")
                    || code.starts_with("57P0")
                    || code.starts_with("53")
                    || code == "57014"
                    || code == "25006"
            }),
            _ => false,
        };
        if unreachable {
            StoreError::Unavailable(error.to_string())
        } else {
            StoreError::Database(error)
        }
    }
}

/// Settings for server databases (PostgreSQL); SQLite needs none.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseOptions {
    /// Connections per server process.
    pub pool_size: u32,
    /// Statements running longer are cancelled.
    pub statement_timeout: Duration,
}

impl Default for DatabaseOptions {
    fn default() -> Self {
        DatabaseOptions {
            pool_size: 8,
            statement_timeout: Duration::from_secs(5),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A cheap round trip, for readiness checks.
    async fn ping(&self) -> StoreResult<()>;
    /// The current revision; it changes whenever anything the cache holds changes.
    async fn revision(&self) -> StoreResult<i64>;
    /// Realms, keys and clients as of one revision.
    async fn load(&self) -> StoreResult<Contents>;
    /// The server-wide key client secrets are hashed with, created on first use.
    async fn secret_hash_key(&self) -> StoreResult<SecretBox<[u8]>>;

    async fn create_realm(&self, realm: &Realm, key: &RealmKey) -> StoreResult<()>;
    /// Saves a realm's settings (lifetime, algorithm, assertion rules).
    async fn update_realm(&self, realm: &Realm) -> StoreResult<()>;
    /// Makes `key` the realm's active signing key; the previous active keys stay published
    /// until `publish_until`.
    async fn rotate_realm_key(&self, key: &RealmKey, publish_until: UnixTime) -> StoreResult<()>;
    async fn realms(&self) -> StoreResult<Vec<Realm>>;
    async fn realm(&self, name: &str) -> StoreResult<Option<Realm>>;

    async fn create_client(&self, client: &Client) -> StoreResult<()>;
    /// Creates many clients in one transaction (all or none).
    async fn import_clients(&self, clients: &[Client]) -> StoreResult<()>;
    async fn clients(&self, realm_id: &str) -> StoreResult<Vec<Client>>;
    async fn client(&self, realm_id: &str, client_id: &str) -> StoreResult<Option<Client>>;
    async fn set_client_enabled(
        &self,
        realm_id: &str,
        client_id: &str,
        enabled: bool,
    ) -> StoreResult<()>;
    async fn set_client_secret_hash(
        &self,
        realm_id: &str,
        client_id: &str,
        secret_hash: &[u8],
    ) -> StoreResult<()>;
    async fn delete_client(&self, realm_id: &str, client_id: &str) -> StoreResult<()>;
    /// Revokes every token issued to the client before `not_before`.
    async fn set_client_not_before(
        &self,
        realm_id: &str,
        client_id: &str,
        not_before: UnixTime,
    ) -> StoreResult<()>;
    async fn revoke_token(&self, token: &RevokedToken) -> StoreResult<()>;

    async fn add_client_key(&self, key: &ClientKey) -> StoreResult<()>;
    /// The keys of the client with `Client::id` `owner_id`.
    async fn client_keys(&self, owner_id: &str) -> StoreResult<Vec<ClientKey>>;
    async fn delete_client_key(&self, owner_id: &str, kid: &str) -> StoreResult<()>;

    /// Records an assertion id as used until `expires_at`. Returns false if it already was.
    async fn register_jti(
        &self,
        realm_id: &str,
        owner_id: &str,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<bool>;
    /// Forgets what expired before `now`: used assertion ids, revoked tokens, and rotated-out
    /// signing keys past their publication.
    async fn purge_expired(&self, now: UnixTime) -> StoreResult<()>;

    /// Signalled when another process changed the data, if the database can tell (PostgreSQL's
    /// LISTEN/NOTIFY); servers also check the revision periodically.
    fn changes(&self) -> Option<Arc<Notify>> {
        None
    }

    /// How often each operation ran, for `/metrics`.
    fn operations(&self) -> Vec<(&'static str, u64)> {
        Vec::new()
    }
}

/// Opens the database named by `url` (`sqlite://PATH` or `postgres://…`), creating and
/// migrating it as needed.
pub async fn open(url: &str, options: DatabaseOptions) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::open(url, options).await?))
    } else {
        // Only the scheme: the rest may hold a password.
        let scheme = url.split_once(':').map_or("", |(scheme, _)| scheme);
        Err(StoreError::UnsupportedUrl(scheme.to_owned()))
    }
}

/// Purges expired records every `interval` until the task is dropped or aborted.
pub async fn purge_periodically(
    store: Arc<dyn Store>,
    clock: Arc<dyn crate::clock::Clock>,
    interval: std::time::Duration,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(error) = store.purge_expired(clock.now()).await {
            tracing::debug!(%error, "cannot purge expired records");
        }
    }
}
