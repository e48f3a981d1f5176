//! PostgreSQL: many Tessera instances on one database. Changes reach every instance through
//! LISTEN/NOTIFY (the revision check each instance also runs is the safety net).

use std::{
    str::FromStr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use async_trait::async_trait;
use sqlx::{
    PgPool, Postgres,
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
};
use tokio::sync::Notify;

use super::{
    DatabaseOptions, StoreResult,
    sql::{Backend, RowMapper, SqlStore, Statement, bind},
};

/// The channel the schema's triggers notify.
const CHANNEL: &str = "tessera_changes";

pub struct PostgresBackend {
    pool: PgPool,
    changes: OnceLock<Arc<Notify>>,
}

/// Connects to and migrates the database at `url`. Migrations take an advisory lock, so
/// instances starting together apply them once.
pub async fn open(url: &str, options: DatabaseOptions) -> StoreResult<SqlStore<PostgresBackend>> {
    let timeout_ms = options.statement_timeout.as_millis().to_string();
    let connect = PgConnectOptions::from_str(url)?.options([("statement_timeout", timeout_ms)]);
    let pool = PgPoolOptions::new()
        .max_connections(options.pool_size)
        // While the database is away, callers get an error quickly instead of a hang.
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(connect)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(SqlStore::new(PostgresBackend {
        pool,
        changes: OnceLock::new(),
    }))
}

/// Signals `notify` on every change notification, reconnecting after failures. Each
/// (re)connection signals once too, for changes made while it was away.
async fn listen(pool: PgPool, notify: Arc<Notify>) {
    loop {
        match PgListener::connect_with(&pool).await {
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
    ) -> StoreResult<Vec<T>> {
        let rows = bind::<Postgres>(&statement).fetch_all(&self.pool).await?;
        rows.iter().map(|row| map(row)).collect()
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
        let notify = self.changes.get_or_init(|| {
            let notify = Arc::new(Notify::new());
            tokio::spawn(listen(self.pool.clone(), Arc::clone(&notify)));
            notify
        });
        Some(Arc::clone(notify))
    }
}
