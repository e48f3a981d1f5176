//! The store for SQL databases, written once. Statements are plain SQL that runs unchanged on
//! SQLite and PostgreSQL (`$N` placeholders in order, booleans as parameters); each database is
//! a small [`Backend`] that runs them.

mod statements;

use std::{
    borrow::Cow,
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use secrecy::SecretBox;
use sqlx::{ColumnIndex, Database, Decode, Encode, Row, Type, query::Query};
use tokio::sync::Notify;

use super::{
    Client, ClientKey, Contents, Realm, RealmKey, RevokedToken, Store, StoreError, StoreResult,
};
use crate::clock::UnixTime;

/// A statement parameter. Not `Debug`: parameters include private keys.
pub enum Param {
    Text(String),
    Bytes(Vec<u8>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
}

/// A statement and its parameters, in placeholder order.
pub struct Statement {
    pub sql: Cow<'static, str>,
    pub params: Vec<Param>,
}

/// Reading one column of a row by name.
pub trait Fields {
    fn text(&self, column: &str) -> StoreResult<String>;
    fn bytes(&self, column: &str) -> StoreResult<Vec<u8>>;
    fn int(&self, column: &str) -> StoreResult<i64>;
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>>;
    fn flag(&self, column: &str) -> StoreResult<bool>;
}

/// Any sqlx row whose database decodes these types (SQLite's and PostgreSQL's do).
impl<R> Fields for R
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    String: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    i64: for<'r> Decode<'r, R::Database> + Type<R::Database>,
    bool: for<'r> Decode<'r, R::Database> + Type<R::Database>,
{
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

/// The sqlx query for `statement`, its parameters bound in order.
pub fn bind<DB>(statement: &Statement) -> Query<'_, DB, DB::Arguments<'_>>
where
    DB: Database,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    Option<i64>: for<'q> Encode<'q, DB> + Type<DB>,
    bool: for<'q> Encode<'q, DB> + Type<DB>,
{
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

/// Turns a row into a record.
pub type RowMapper<T> = for<'r> fn(&'r (dyn Fields + 'r)) -> StoreResult<T>;

/// What a database has to do for [`SqlStore`].
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// Runs a statement; returns the rows it changed.
    async fn execute(&self, statement: Statement) -> StoreResult<u64>;
    /// Like [`execute`](Self::execute), for the one write on the token path (a used assertion
    /// id), which a backend may make cheaper.
    async fn execute_hot(&self, statement: Statement) -> StoreResult<u64>;
    /// Runs a query and maps each row (a row that does not map is an error of its own).
    async fn fetch<T: Send + 'static>(
        &self,
        statement: Statement,
        map: RowMapper<T>,
    ) -> StoreResult<Vec<StoreResult<T>>>;
    /// Runs statements in one transaction: all or none.
    async fn transaction(&self, statements: Vec<Statement>) -> StoreResult<()>;
    /// Signalled when another process changed the data, if the database can tell.
    fn changes(&self) -> Option<Arc<Notify>> {
        None
    }
}

pub struct SqlStore<B> {
    backend: B,
    /// Calls per store operation, for `/metrics` (and to show the token path makes none).
    operations: Mutex<BTreeMap<&'static str, u64>>,
}

impl<B: Backend> SqlStore<B> {
    pub fn new(backend: B) -> Self {
        SqlStore {
            backend,
            operations: Mutex::new(BTreeMap::new()),
        }
    }

    fn count(&self, operation: &'static str) {
        if let Ok(mut operations) = self.operations.lock() {
            *operations.entry(operation).or_default() += 1;
        }
    }

    /// Every row, or the first error.
    async fn all<T: Send + 'static>(
        &self,
        statement: Statement,
        map: RowMapper<T>,
    ) -> StoreResult<Vec<T>> {
        self.backend
            .fetch(statement, map)
            .await?
            .into_iter()
            .collect()
    }

    async fn one<T: Send + 'static>(
        &self,
        statement: Statement,
        map: RowMapper<T>,
    ) -> StoreResult<Option<T>> {
        self.backend
            .fetch(statement, map)
            .await?
            .into_iter()
            .next()
            .transpose()
    }

    /// The rows that can be read; the others are logged and left out, so one row this version
    /// cannot read (say, written by a newer one) does not stop every instance from reloading.
    async fn readable<T: Send + 'static>(
        &self,
        statement: Statement,
        map: RowMapper<T>,
        what: &str,
    ) -> StoreResult<Vec<T>> {
        let rows = self.backend.fetch(statement, map).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                row.inspect_err(
                    |error| tracing::error!(%error, "skipping an unreadable {what} row"),
                )
                .ok()
            })
            .collect())
    }
}

#[async_trait]
impl<B: Backend> Store for SqlStore<B> {
    async fn ping(&self) -> StoreResult<()> {
        self.count("ping");
        self.backend.execute(statements::ping()).await.map(drop)
    }

    async fn revision(&self) -> StoreResult<i64> {
        self.count("revision");
        self.one(statements::revision(), |row| row.int("value"))
            .await?
            .ok_or_else(|| StoreError::Corrupt("no revision row".into()))
    }

    async fn load(&self) -> StoreResult<Contents> {
        self.count("load");
        // Not one snapshot: the revision is read first, so a change that lands during the load
        // moves it past this value and the next check loads again.
        let revision = self.revision().await?;
        Ok(Contents {
            revision,
            realms: self
                .readable(statements::all_realms(), statements::realm, "realm")
                .await?,
            keys: self
                .readable(
                    statements::all_realm_keys(),
                    statements::realm_key,
                    "realm key",
                )
                .await?,
            clients: self
                .readable(statements::all_clients(), statements::client, "client")
                .await?,
            client_keys: self
                .readable(
                    statements::all_client_keys(),
                    statements::client_key,
                    "client key",
                )
                .await?,
            revoked_tokens: self
                .readable(
                    statements::all_revoked_tokens(),
                    statements::revoked_token,
                    "revoked token",
                )
                .await?,
        })
    }

    async fn secret_hash_key(&self) -> StoreResult<SecretBox<[u8]>> {
        self.count("secret_hash_key");
        let candidate =
            crate::secret::generate_hash_key().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.backend
            .execute(statements::insert_hash_key(&candidate))
            .await?;
        let key = self
            .one(statements::hash_key(), |row| row.bytes("value"))
            .await?
            .ok_or_else(|| StoreError::Corrupt("no secret hash key".into()))?;
        Ok(SecretBox::new(key.into_boxed_slice()))
    }

    async fn create_realm(&self, realm: &Realm, key: &RealmKey) -> StoreResult<()> {
        self.count("create_realm");
        let statements = vec![
            statements::insert_realm(realm),
            statements::insert_realm_key(key),
        ];
        self.backend
            .transaction(statements)
            .await
            .map_err(|e| conflict(e, format!("realm '{}'", realm.name)))
    }

    async fn rotate_realm_key(&self, key: &RealmKey, publish_until: UnixTime) -> StoreResult<()> {
        self.count("rotate_realm_key");
        let statements = vec![
            statements::retire_realm_keys(&key.realm_id, publish_until),
            statements::insert_realm_key(key),
        ];
        self.backend.transaction(statements).await
    }

    async fn update_realm(&self, realm: &Realm) -> StoreResult<()> {
        self.count("update_realm");
        let changed = self
            .backend
            .execute(statements::update_realm(realm))
            .await?;
        found(changed, format!("realm '{}'", realm.name))
    }

    async fn realms(&self) -> StoreResult<Vec<Realm>> {
        self.count("realms");
        self.all(statements::realms_by_name(), statements::realm)
            .await
    }

    async fn realm(&self, name: &str) -> StoreResult<Option<Realm>> {
        self.count("realm");
        self.one(statements::realm_named(name), statements::realm)
            .await
    }

    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        self.count("create_client");
        let insert = statements::insert_client(client)?;
        self.backend
            .execute(insert)
            .await
            .map(drop)
            .map_err(|e| conflict(e, format!("client '{}'", client.client_id)))
    }

    async fn import_clients(&self, clients: &[Client]) -> StoreResult<()> {
        self.count("import_clients");
        let inserts = clients
            .iter()
            .map(statements::insert_client)
            .collect::<StoreResult<Vec<_>>>()?;
        self.backend
            .transaction(inserts)
            .await
            .map_err(|e| conflict(e, "a client".into()))
    }

    async fn clients(&self, realm_id: &str) -> StoreResult<Vec<Client>> {
        self.count("clients");
        self.all(statements::clients_of(realm_id), statements::client)
            .await
    }

    async fn client(&self, realm_id: &str, client_id: &str) -> StoreResult<Option<Client>> {
        self.count("client");
        self.one(
            statements::client_named(realm_id, client_id),
            statements::client,
        )
        .await
    }

    async fn set_client_enabled(
        &self,
        realm_id: &str,
        client_id: &str,
        enabled: bool,
    ) -> StoreResult<()> {
        self.count("set_client_enabled");
        let statement = statements::set_client_enabled(realm_id, client_id, enabled);
        found(self.backend.execute(statement).await?, client(client_id))
    }

    async fn set_client_secret_hash(
        &self,
        realm_id: &str,
        client_id: &str,
        secret_hash: &[u8],
    ) -> StoreResult<()> {
        self.count("set_client_secret_hash");
        let statement = statements::set_client_secret_hash(realm_id, client_id, secret_hash);
        found(self.backend.execute(statement).await?, client(client_id))
    }

    async fn delete_client(&self, realm_id: &str, client_id: &str) -> StoreResult<()> {
        self.count("delete_client");
        let statement = statements::delete_client(realm_id, client_id);
        found(self.backend.execute(statement).await?, client(client_id))
    }

    async fn set_client_not_before(
        &self,
        realm_id: &str,
        client_id: &str,
        not_before: UnixTime,
    ) -> StoreResult<()> {
        self.count("set_client_not_before");
        let statement = statements::set_client_not_before(realm_id, client_id, not_before);
        found(self.backend.execute(statement).await?, client(client_id))
    }

    async fn revoke_token(&self, token: &RevokedToken) -> StoreResult<()> {
        self.count("revoke_token");
        self.backend
            .execute(statements::insert_revoked_token(token))
            .await
            .map(drop)
    }

    async fn add_client_key(&self, key: &ClientKey) -> StoreResult<()> {
        self.count("add_client_key");
        self.backend
            .execute(statements::insert_client_key(key))
            .await
            .map(drop)
            .map_err(|e| conflict(e, format!("key '{}'", key.kid)))
    }

    async fn client_keys(&self, owner_id: &str) -> StoreResult<Vec<ClientKey>> {
        self.count("client_keys");
        self.all(statements::keys_of(owner_id), statements::client_key)
            .await
    }

    async fn delete_client_key(&self, owner_id: &str, kid: &str) -> StoreResult<()> {
        self.count("delete_client_key");
        let changed = self
            .backend
            .execute(statements::delete_client_key(owner_id, kid))
            .await?;
        found(changed, format!("key '{kid}'"))
    }

    async fn register_jti(
        &self,
        realm_id: &str,
        owner_id: &str,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<bool> {
        self.count("register_jti");
        let statement = statements::insert_jti(realm_id, owner_id, jti, expires_at);
        Ok(self.backend.execute_hot(statement).await? == 1)
    }

    async fn purge_expired(&self, now: UnixTime) -> StoreResult<()> {
        self.count("purge_expired");
        for statement in statements::purge_expired(now) {
            self.backend.execute(statement).await?;
        }
        Ok(())
    }

    fn changes(&self) -> Option<Arc<Notify>> {
        self.backend.changes()
    }

    fn operations(&self) -> Vec<(&'static str, u64)> {
        match self.operations.lock() {
            Ok(operations) => operations.iter().map(|(k, v)| (*k, *v)).collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn client(client_id: &str) -> String {
    format!("client '{client_id}'")
}

/// A unique-key violation means the thing already exists.
fn conflict(error: StoreError, what: String) -> StoreError {
    match &error {
        StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            StoreError::Conflict(what)
        }
        _ => error,
    }
}

fn found(rows: u64, what: String) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound(what))
    } else {
        Ok(())
    }
}
