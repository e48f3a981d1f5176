//! PostgreSQL: many Tessera instances on one database. Changes reach every instance through
//! LISTEN/NOTIFY (the revision check each instance also runs is the safety net).

use std::{
    str::FromStr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use async_trait::async_trait;
use sqlx::{
    ConnectOptions, PgPool, Postgres,
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};
use tokio::{sync::Notify, task::JoinHandle};

use super::{
    DatabaseOptions, StoreResult,
    sql::{Backend, RowMapper, SqlStore, Statement, bind},
};

/// The channel the schema's triggers notify.
const CHANNEL: &str = "tessera_changes";

pub struct PostgresBackend {
    pool: PgPool,
    /// For the listener's own connection (it never takes one from the pool).
    connect: PgConnectOptions,
    listener: OnceLock<(Arc<Notify>, JoinHandle<()>)>,
}

/// Connects to and migrates the database at `url`.
pub async fn open(url: &str, options: DatabaseOptions) -> StoreResult<SqlStore<PostgresBackend>> {
    let connect = PgConnectOptions::from_str(url)?;
    // Migrations run on a connection of their own, without the statement timeout: they wait on
    // an advisory lock while another instance migrates, and may take long some day.
    let mut migrating = connect.connect().await?;
    sqlx::migrate!("./migrations/postgres")
        .run(&mut migrating)
        .await?;
    drop(migrating);
    let timeout_ms = options.statement_timeout.as_millis().to_string();
    let pool = PgPoolOptions::new()
        .max_connections(options.pool_size)
        // While the database is away, callers get an error quickly instead of a hang.
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(connect.clone().options([("statement_timeout", timeout_ms)]))
        .await?;
    Ok(SqlStore::new(PostgresBackend {
        pool,
        connect,
        listener: OnceLock::new(),
    }))
}

/// Signals `notify` on every change notification. When the connection is lost it connects
/// again (sqlx may also do so within `recv`); either way the periodic revision check catches
/// what was said while nobody listened.
async fn listen(connect: PgConnectOptions, notify: Arc<Notify>) {
    loop {
        // A pool of one, of its own: the listener reconnects through it.
        let own = PgPoolOptions::new()
            .max_connections(1)
            .max_lifetime(None)
            .idle_timeout(None)
            .connect_with(connect.clone())
            .await;
        let listener = match own {
            Ok(pool) => PgListener::connect_with(&pool).await,
            Err(error) => Err(error),
        };
        match listener {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    notify.notify_one();
                    while listener.recv().await.is_ok() {
                        notify.notify_one();
                    }
                    tracing::warn!("lost the change notification connection; reconnecting");
                }
                Err(error) => tracing::debug!(%error, "cannot LISTEN for changes"),
            },
            Err(error) => tracing::debug!(%error, "cannot connect to LISTEN for changes"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[async_trait]
impl Backend for PostgresBackend {
    async fn execute(&self, statement: Statement) -> StoreResult<u64> {
        Ok(bind::<Postgres>(&statement)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn execute_hot(&self, statement: Statement) -> StoreResult<u64> {
        self.execute(statement).await
    }

    async fn fetch<T: Send + 'static>(
        &self,
        statement: Statement,
        map: RowMapper<T>,
    ) -> StoreResult<Vec<StoreResult<T>>> {
        let rows = bind::<Postgres>(&statement).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|row| map(row)).collect())
    }

    async fn transaction(&self, statements: Vec<Statement>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for statement in &statements {
            bind::<Postgres>(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    fn changes(&self) -> Option<Arc<Notify>> {
        let (notify, _) = self.listener.get_or_init(|| {
            let notify = Arc::new(Notify::new());
            let task = tokio::spawn(listen(self.connect.clone(), Arc::clone(&notify)));
            (notify, task)
        });
        Some(Arc::clone(notify))
    }
}

impl Drop for PostgresBackend {
    fn drop(&mut self) {
        if let Some((_, task)) = self.listener.get() {
            task.abort();
        }
    }
}
