//! SQLite: the embedded default.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    Row, Sqlite, SqlitePool,
    query::Query,
    sqlite::{
        SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
        SqliteSynchronous,
    },
};

use super::{
    StoreResult,
    sql::{Backend, Fields, Param, RowMapper, SqlStore, Statement},
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
    if migrator.run(&pool).await.is_err() {
        migrator.run(&pool).await?;
    }
    let hot_pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options.synchronous(SqliteSynchronous::Normal))
        .await?;
    Ok(SqlStore::new(SqliteBackend { pool, hot_pool }))
}

fn bind(statement: &Statement) -> Query<'_, Sqlite, SqliteArguments<'_>> {
    let mut query = sqlx::query(&statement.sql);
    for param in &statement.params {
        query = match param {
            Param::Text(value) => query.bind(value.as_str()),
            Param::Bytes(value) => query.bind(value.as_slice()),
            Param::Int(value) => query.bind(*value),
            Param::OptInt(value) => query.bind(*value),
            Param::Bool(value) => query.bind(*value),
        };
    }
    query
}

#[async_trait]
impl Backend for SqliteBackend {
    async fn execute(&self, statement: Statement) -> StoreResult<u64> {
        Ok(bind(&statement).execute(&self.pool).await?.rows_affected())
    }

    async fn execute_hot(&self, statement: Statement) -> StoreResult<u64> {
        Ok(bind(&statement)
            .execute(&self.hot_pool)
            .await?
            .rows_affected())
    }

    async fn fetch<T: Send + 'static>(
        &self,
        statement: Statement,
        map: RowMapper<T>,
    ) -> StoreResult<Vec<T>> {
        let rows = bind(&statement).fetch_all(&self.pool).await?;
        rows.iter().map(|row| map(row)).collect()
    }

    async fn transaction(&self, statements: Vec<Statement>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for statement in &statements {
            bind(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Fields for SqliteRow {
    fn text(&self, column: &str) -> StoreResult<String> {
        Ok(self.try_get(column)?)
    }

    fn bytes(&self, column: &str) -> StoreResult<Vec<u8>> {
        Ok(self.try_get(column)?)
    }

    fn int(&self, column: &str) -> StoreResult<i64> {
        Ok(self.try_get(column)?)
    }

    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        Ok(self.try_get(column)?)
    }

    fn flag(&self, column: &str) -> StoreResult<bool> {
        Ok(self.try_get(column)?)
    }
}
