//! The embedded default backend.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretBox};
use sqlx::{
    Row, SqlitePool,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
    },
};

use super::{
    Client, ClientKey, Contents, Realm, RealmKey, RevokedToken, Store, StoreError, StoreResult,
};
use crate::{clock::UnixTime, secret};

const HASH_KEY_SETTING: &str = "secret_hash_key";

pub struct SqliteStore {
    pool: SqlitePool,
    /// Used assertion ids are written on the token path; this connection skips the fsync per
    /// commit (WAL still survives a crash of the process, only an OS crash could lose the last
    /// few, and they expire within minutes anyway).
    jti_pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite://PATH`).
    pub async fn open(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Writes are rare (admin changes); never lose an acknowledged one.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await?;
        let migrator = sqlx::migrate!("./migrations/sqlite");
        // Two processes migrating a new file at once: the loser fails on the winner's tables
        // and succeeds on a second pass, which finds them applied.
        if migrator.run(&pool).await.is_err() {
            migrator.run(&pool).await?;
        }
        let jti_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.synchronous(SqliteSynchronous::Normal))
            .await?;
        Ok(SqliteStore { pool, jti_pool })
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn revision(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT value FROM revision WHERE id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn load(&self) -> StoreResult<Contents> {
        let mut tx = self.pool.begin().await?;
        let revision = sqlx::query_scalar("SELECT value FROM revision WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let realms = sqlx::query(REALM_SELECT)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(realm_from_row)
            .collect::<StoreResult<_>>()?;
        let keys = sqlx::query(
            "SELECT kid, realm_id, alg, private_key, active, publish_until, created_at \
             FROM realm_keys",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(key_from_row)
        .collect::<StoreResult<_>>()?;
        let clients = sqlx::query(CLIENT_SELECT)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(client_from_row)
            .collect::<StoreResult<_>>()?;
        let client_keys = sqlx::query(CLIENT_KEY_SELECT)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(client_key_from_row)
            .collect::<StoreResult<_>>()?;
        let revoked_tokens = sqlx::query("SELECT realm_id, jti, expires_at FROM revoked_tokens")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| {
                Ok(RevokedToken {
                    realm_id: row.try_get("realm_id")?,
                    jti: row.try_get("jti")?,
                    expires_at: from_i64(row.try_get("expires_at")?),
                })
            })
            .collect::<StoreResult<_>>()?;
        tx.commit().await?;
        Ok(Contents {
            revision,
            realms,
            keys,
            clients,
            client_keys,
            revoked_tokens,
        })
    }

    async fn secret_hash_key(&self) -> StoreResult<SecretBox<[u8]>> {
        let candidate =
            secret::generate_hash_key().map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING")
            .bind(HASH_KEY_SETTING)
            .bind(candidate.expose_secret())
            .execute(&self.pool)
            .await?;
        let key: Vec<u8> = sqlx::query_scalar("SELECT value FROM settings WHERE name = ?")
            .bind(HASH_KEY_SETTING)
            .fetch_one(&self.pool)
            .await?;
        Ok(SecretBox::new(key.into_boxed_slice()))
    }

    async fn create_realm(&self, realm: &Realm, key: &RealmKey) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO realms (id, name, token_lifetime, signing_alg, strict_assertions, \
             created_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&realm.id)
        .bind(&realm.name)
        .bind(realm.token_lifetime)
        .bind(realm.signing_alg.as_str())
        .bind(realm.strict_assertions)
        .bind(to_i64(realm.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| conflict(e, format!("realm '{}'", realm.name)))?;
        insert_realm_key(&mut tx, key).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn rotate_realm_key(&self, key: &RealmKey, publish_until: UnixTime) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE realm_keys SET active = 0, publish_until = ? WHERE realm_id = ? AND active = 1",
        )
        .bind(to_i64(publish_until))
        .bind(&key.realm_id)
        .execute(&mut *tx)
        .await?;
        insert_realm_key(&mut tx, key).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_realm(&self, realm: &Realm) -> StoreResult<()> {
        let result =
            sqlx::query("UPDATE realms SET token_lifetime = ?, strict_assertions = ? WHERE id = ?")
                .bind(realm.token_lifetime)
                .bind(realm.strict_assertions)
                .bind(&realm.id)
                .execute(&self.pool)
                .await?;
        found(result.rows_affected(), format!("realm '{}'", realm.name))
    }

    async fn realms(&self) -> StoreResult<Vec<Realm>> {
        sqlx::query(&format!("{REALM_SELECT} ORDER BY name"))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(realm_from_row)
            .collect()
    }

    async fn realm(&self, name: &str) -> StoreResult<Option<Realm>> {
        sqlx::query(&format!("{REALM_SELECT} WHERE name = ?"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(realm_from_row)
            .transpose()
    }

    async fn create_client(&self, client: &Client) -> StoreResult<()> {
        insert_client(&self.pool, client).await
    }

    async fn import_clients(&self, clients: &[Client]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for client in clients {
            insert_client(&mut *tx, client).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn clients(&self, realm_id: &str) -> StoreResult<Vec<Client>> {
        sqlx::query(&format!(
            "{CLIENT_SELECT} WHERE realm_id = ? ORDER BY client_id"
        ))
        .bind(realm_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(client_from_row)
        .collect()
    }

    async fn client(&self, realm_id: &str, client_id: &str) -> StoreResult<Option<Client>> {
        sqlx::query(&format!(
            "{CLIENT_SELECT} WHERE realm_id = ? AND client_id = ?"
        ))
        .bind(realm_id)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(client_from_row)
        .transpose()
    }

    async fn set_client_enabled(
        &self,
        realm_id: &str,
        client_id: &str,
        enabled: bool,
    ) -> StoreResult<()> {
        let result =
            sqlx::query("UPDATE clients SET enabled = ? WHERE realm_id = ? AND client_id = ?")
                .bind(enabled)
                .bind(realm_id)
                .bind(client_id)
                .execute(&self.pool)
                .await?;
        found(result.rows_affected(), format!("client '{client_id}'"))
    }

    async fn set_client_secret_hash(
        &self,
        realm_id: &str,
        client_id: &str,
        secret_hash: &[u8],
    ) -> StoreResult<()> {
        let result =
            sqlx::query("UPDATE clients SET secret_hash = ? WHERE realm_id = ? AND client_id = ?")
                .bind(secret_hash)
                .bind(realm_id)
                .bind(client_id)
                .execute(&self.pool)
                .await?;
        found(result.rows_affected(), format!("client '{client_id}'"))
    }

    async fn delete_client(&self, realm_id: &str, client_id: &str) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM clients WHERE realm_id = ? AND client_id = ?")
            .bind(realm_id)
            .bind(client_id)
            .execute(&self.pool)
            .await?;
        found(result.rows_affected(), format!("client '{client_id}'"))
    }

    async fn set_client_not_before(
        &self,
        realm_id: &str,
        client_id: &str,
        not_before: UnixTime,
    ) -> StoreResult<()> {
        let result =
            sqlx::query("UPDATE clients SET not_before = ? WHERE realm_id = ? AND client_id = ?")
                .bind(to_i64(not_before))
                .bind(realm_id)
                .bind(client_id)
                .execute(&self.pool)
                .await?;
        found(result.rows_affected(), format!("client '{client_id}'"))
    }

    async fn revoke_token(&self, token: &RevokedToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO revoked_tokens (realm_id, jti, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&token.realm_id)
        .bind(&token.jti)
        .bind(to_i64(token.expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn add_client_key(&self, key: &ClientKey) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO client_keys (kid, realm_id, owner_id, alg, public_key, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&key.kid)
        .bind(&key.realm_id)
        .bind(&key.owner_id)
        .bind(key.alg.as_str())
        .bind(&key.public_key)
        .bind(to_i64(key.created_at))
        .execute(&self.pool)
        .await
        .map_err(|e| conflict(e, format!("key '{}'", key.kid)))?;
        Ok(())
    }

    async fn client_keys(&self, owner_id: &str) -> StoreResult<Vec<ClientKey>> {
        sqlx::query(&format!(
            "{CLIENT_KEY_SELECT} WHERE owner_id = ? ORDER BY created_at, kid"
        ))
        .bind(owner_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(client_key_from_row)
        .collect()
    }

    async fn delete_client_key(&self, owner_id: &str, kid: &str) -> StoreResult<()> {
        let result = sqlx::query("DELETE FROM client_keys WHERE owner_id = ? AND kid = ?")
            .bind(owner_id)
            .bind(kid)
            .execute(&self.pool)
            .await?;
        found(result.rows_affected(), format!("key '{kid}'"))
    }

    async fn register_jti(
        &self,
        realm_id: &str,
        owner_id: &str,
        jti: &str,
        expires_at: UnixTime,
    ) -> StoreResult<bool> {
        let result = sqlx::query(
            "INSERT INTO used_jtis (realm_id, owner_id, jti, expires_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(realm_id)
        .bind(owner_id)
        .bind(jti)
        .bind(to_i64(expires_at))
        .execute(&self.jti_pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    async fn purge_expired(&self, now: UnixTime) -> StoreResult<()> {
        for statement in [
            "DELETE FROM used_jtis WHERE expires_at < ?",
            "DELETE FROM revoked_tokens WHERE expires_at < ?",
            "DELETE FROM realm_keys WHERE active = 0 AND publish_until < ?",
        ] {
            sqlx::query(statement)
                .bind(to_i64(now))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}

async fn insert_client<'e>(
    executor: impl sqlx::SqliteExecutor<'e>,
    client: &Client,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO clients (id, realm_id, client_id, secret_hash, enabled, scopes, \
         default_scopes, grant_types, audience, token_lifetime, not_before, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&client.id)
    .bind(&client.realm_id)
    .bind(&client.client_id)
    .bind(client.secret_hash.as_deref().unwrap_or_default())
    .bind(client.enabled)
    .bind(to_json(&client.scopes)?)
    .bind(to_json(&client.default_scopes)?)
    .bind(to_json(&client.grant_types)?)
    .bind(to_json(&client.audience)?)
    .bind(client.token_lifetime)
    .bind(to_i64(client.not_before))
    .bind(to_i64(client.created_at))
    .execute(executor)
    .await
    .map_err(|e| conflict(e, format!("client '{}'", client.client_id)))?;
    Ok(())
}

async fn insert_realm_key(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    key: &RealmKey,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO realm_keys (kid, realm_id, alg, private_key, active, publish_until, \
         created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&key.kid)
    .bind(&key.realm_id)
    .bind(key.alg.as_str())
    .bind(key.private_key.expose_secret())
    .bind(key.active)
    .bind(key.publish_until.map(to_i64))
    .bind(to_i64(key.created_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

const REALM_SELECT: &str =
    "SELECT id, name, token_lifetime, signing_alg, strict_assertions, created_at FROM realms";
const CLIENT_KEY_SELECT: &str =
    "SELECT kid, realm_id, owner_id, alg, public_key, created_at FROM client_keys";
const CLIENT_SELECT: &str = "SELECT id, realm_id, client_id, secret_hash, enabled, scopes, \
     default_scopes, grant_types, audience, token_lifetime, not_before, created_at FROM clients";

fn realm_from_row(row: &SqliteRow) -> StoreResult<Realm> {
    Ok(Realm {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        token_lifetime: row.try_get("token_lifetime")?,
        signing_alg: parse_alg(row.try_get("signing_alg")?)?,
        strict_assertions: row.try_get("strict_assertions")?,
        created_at: from_i64(row.try_get("created_at")?),
    })
}

fn key_from_row(row: &SqliteRow) -> StoreResult<RealmKey> {
    let private_key: Vec<u8> = row.try_get("private_key")?;
    Ok(RealmKey {
        kid: row.try_get("kid")?,
        realm_id: row.try_get("realm_id")?,
        alg: parse_alg(row.try_get("alg")?)?,
        private_key: SecretBox::new(private_key.into_boxed_slice()),
        active: row.try_get("active")?,
        publish_until: row
            .try_get::<Option<i64>, _>("publish_until")?
            .map(from_i64),
        created_at: from_i64(row.try_get("created_at")?),
    })
}

fn client_from_row(row: &SqliteRow) -> StoreResult<Client> {
    Ok(Client {
        id: row.try_get("id")?,
        realm_id: row.try_get("realm_id")?,
        client_id: row.try_get("client_id")?,
        secret_hash: Some(row.try_get::<Vec<u8>, _>("secret_hash")?).filter(|h| !h.is_empty()),
        enabled: row.try_get("enabled")?,
        scopes: from_json(row.try_get("scopes")?)?,
        default_scopes: from_json(row.try_get("default_scopes")?)?,
        grant_types: from_json(row.try_get("grant_types")?)?,
        audience: from_json(row.try_get("audience")?)?,
        token_lifetime: row.try_get("token_lifetime")?,
        not_before: from_i64(row.try_get("not_before")?),
        created_at: from_i64(row.try_get("created_at")?),
    })
}

fn client_key_from_row(row: &SqliteRow) -> StoreResult<ClientKey> {
    Ok(ClientKey {
        kid: row.try_get("kid")?,
        realm_id: row.try_get("realm_id")?,
        owner_id: row.try_get("owner_id")?,
        alg: parse_alg(row.try_get("alg")?)?,
        public_key: row.try_get("public_key")?,
        created_at: from_i64(row.try_get("created_at")?),
    })
}

fn parse_alg(alg: &str) -> StoreResult<crate::keys::SigningAlg> {
    alg.parse().map_err(StoreError::Corrupt)
}

fn to_json<T: serde::Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_i64(time: u64) -> i64 {
    i64::try_from(time).unwrap_or(i64::MAX)
}

fn from_i64(time: i64) -> u64 {
    u64::try_from(time).unwrap_or(0)
}

fn conflict(error: sqlx::Error, what: String) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => StoreError::Database(error),
    }
}

fn found(rows: u64, what: String) -> StoreResult<()> {
    if rows == 0 {
        Err(StoreError::NotFound(what))
    } else {
        Ok(())
    }
}
