//! SQLite: the embedded default.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    Sqlite, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::{
    StoreResult,
    sql::{Backend, RowMapper, SqlStore, Statement, bind},
};

pub struct SqliteBackend {
    pool: SqlitePool,
    /// Used assertion ids are written on the token path; this connection skips the fsync per
    /// commit (WAL still survives a crash of the process, only an OS crash could lose the last
    /// few, and they expire within minutes anyway).
    hot_pool: SqlitePool,
}

/// Opens (creating if missing) and migrates the database at `url` (`sqlite://PATH`).
pub async fn open(url: &str) -> StoreResult<SqlStore<SqliteBackend>> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // Admin changes are rare; never lose an acknowledged one.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options.clone())
        .await?;
    let migrator = sqlx::migrate!("./migrations/sqlite");
    // Two processes migrating a new file at once: the loser fails on the winner's tables and
    // succeeds on a second pass, which finds them applied.
    if let Err(error) = migrator.run(&pool).await {
        tracing::debug!(%error, "migration failed once; trying again");
        migrator.run(&pool).await?;
    }
    let hot_pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.synchronous(SqliteSynchronous::Normal))
        .await?;
    Ok(SqlStore::new(SqliteBackend { pool, hot_pool }))
}

#[async_trait]
impl Backend for SqliteBackend {
    async fn execute(&self, statement: Statement) -> StoreResult<u64> {
        Ok(bind::<Sqlite>(&statement)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    async fn execute_hot(&self, statement: Statement) -> StoreResult<u64> {
        Ok(bind::<Sqlite>(&statement)
            .execute(&self.hot_pool)
            .await?
            .rows_affected())
    }

    async fn fetch<T: Send + 'static>(
        &self,
        statement: Statement,
        map: RowMapper<T>,
    ) -> StoreResult<Vec<StoreResult<T>>> {
        let rows = bind::<Sqlite>(&statement).fetch_all(&self.pool).await?;
        Ok(rows.iter().map(|row| map(row)).collect())
    }

    async fn transaction(&self, statements: Vec<Statement>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for statement in &statements {
            bind::<Sqlite>(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
