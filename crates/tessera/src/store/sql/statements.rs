//! Every statement the store runs, and how rows become records.

use std::borrow::Cow;

use secrecy::{ExposeSecret, SecretBox};

use super::{Fields, Param, Statement};
use crate::{
    clock::UnixTime,
    keys::SigningAlg,
    store::{Client, ClientKey, Realm, RealmKey, RevokedToken, StoreError, StoreResult},
};

const HASH_KEY_SETTING: &str = "secret_hash_key";

const REALMS: &str =
    "SELECT id, name, token_lifetime, signing_alg, strict_assertions, created_at FROM realms";
const CLIENTS: &str = "SELECT id, realm_id, client_id, secret_hash, enabled, scopes, \
     default_scopes, grant_types, audience, token_lifetime, not_before, created_at FROM clients";
const CLIENT_KEYS: &str =
    "SELECT kid, realm_id, owner_id, alg, public_key, created_at FROM client_keys";

fn statement(sql: impl Into<Cow<'static, str>>, params: Vec<Param>) -> Statement {
    Statement {
        sql: sql.into(),
        params,
    }
}

fn text(value: &str) -> Param {
    Param::Text(value.to_owned())
}

fn time(value: UnixTime) -> Param {
    Param::Int(i64::try_from(value).unwrap_or(i64::MAX))
}

fn lifetime(value: Option<u32>) -> Param {
    Param::OptInt(value.map(i64::from))
}

fn json<T: serde::Serialize>(value: &T) -> StoreResult<Param> {
    serde_json::to_string(value)
        .map(Param::Text)
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub fn ping() -> Statement {
    statement("SELECT 1", vec![])
}

pub fn revision() -> Statement {
    statement("SELECT value FROM revision WHERE id = 1", vec![])
}

pub fn insert_hash_key(key: &SecretBox<[u8]>) -> Statement {
    statement(
        "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        vec![
            text(HASH_KEY_SETTING),
            Param::Bytes(key.expose_secret().to_vec()),
        ],
    )
}

pub fn hash_key() -> Statement {
    statement(
        "SELECT value FROM settings WHERE name = $1",
        vec![text(HASH_KEY_SETTING)],
    )
}

pub fn all_realms() -> Statement {
    statement(REALMS, vec![])
}

pub fn realms_by_name() -> Statement {
    statement(format!("{REALMS} ORDER BY name"), vec![])
}

pub fn realm_named(name: &str) -> Statement {
    statement(format!("{REALMS} WHERE name = $1"), vec![text(name)])
}

pub fn insert_realm(realm: &Realm) -> Statement {
    statement(
        "INSERT INTO realms (id, name, token_lifetime, signing_alg, strict_assertions, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            text(&realm.id),
            text(&realm.name),
            lifetime(realm.token_lifetime),
            text(realm.signing_alg.as_str()),
            Param::Bool(realm.strict_assertions),
            time(realm.created_at),
        ],
    )
}

pub fn update_realm(realm: &Realm) -> Statement {
    statement(
        "UPDATE realms SET token_lifetime = $1, signing_alg = $2, strict_assertions = $3 \
         WHERE id = $4",
        vec![
            lifetime(realm.token_lifetime),
            text(realm.signing_alg.as_str()),
            Param::Bool(realm.strict_assertions),
            text(&realm.id),
        ],
    )
}

pub fn all_realm_keys() -> Statement {
    statement(
        "SELECT kid, realm_id, alg, private_key, active, publish_until, created_at \
         FROM realm_keys",
        vec![],
    )
}

pub fn insert_realm_key(key: &RealmKey) -> Statement {
    statement(
        "INSERT INTO realm_keys (kid, realm_id, alg, private_key, active, publish_until, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            text(&key.kid),
            text(&key.realm_id),
            text(key.alg.as_str()),
            Param::Bytes(key.private_key.expose_secret().to_vec()),
            Param::Bool(key.active),
            Param::OptInt(
                key.publish_until
                    .map(|t| i64::try_from(t).unwrap_or(i64::MAX)),
            ),
            time(key.created_at),
        ],
    )
}

/// Deactivates the realm's active keys, published until `publish_until`.
pub fn retire_realm_keys(realm_id: &str, publish_until: UnixTime) -> Statement {
    statement(
        "UPDATE realm_keys SET active = $1, publish_until = $2 WHERE realm_id = $3 AND active",
        vec![Param::Bool(false), time(publish_until), text(realm_id)],
    )
}

pub fn all_clients() -> Statement {
    statement(CLIENTS, vec![])
}

pub fn clients_of(realm_id: &str) -> Statement {
    statement(
        format!("{CLIENTS} WHERE realm_id = $1 ORDER BY client_id"),
        vec![text(realm_id)],
    )
}

pub fn client_named(realm_id: &str, client_id: &str) -> Statement {
    statement(
        format!("{CLIENTS} WHERE realm_id = $1 AND client_id = $2"),
        vec![text(realm_id), text(client_id)],
    )
}

pub fn insert_client(client: &Client) -> StoreResult<Statement> {
    Ok(statement(
        "INSERT INTO clients (id, realm_id, client_id, secret_hash, enabled, scopes, \
         default_scopes, grant_types, audience, token_lifetime, not_before, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        vec![
            text(&client.id),
            text(&client.realm_id),
            text(&client.client_id),
            Param::Bytes(client.secret_hash.clone().unwrap_or_default()),
            Param::Bool(client.enabled),
            json(&client.scopes)?,
            json(&client.default_scopes)?,
            json(&client.grant_types)?,
            json(&client.audience)?,
            lifetime(client.token_lifetime),
            time(client.not_before),
            time(client.created_at),
        ],
    ))
}

pub fn set_client_enabled(realm_id: &str, client_id: &str, enabled: bool) -> Statement {
    statement(
        "UPDATE clients SET enabled = $1 WHERE realm_id = $2 AND client_id = $3",
        vec![Param::Bool(enabled), text(realm_id), text(client_id)],
    )
}

pub fn set_client_secret_hash(realm_id: &str, client_id: &str, hash: &[u8]) -> Statement {
    statement(
        "UPDATE clients SET secret_hash = $1 WHERE realm_id = $2 AND client_id = $3",
        vec![Param::Bytes(hash.to_vec()), text(realm_id), text(client_id)],
    )
}

pub fn set_client_not_before(realm_id: &str, client_id: &str, not_before: UnixTime) -> Statement {
    statement(
        "UPDATE clients SET not_before = $1 WHERE realm_id = $2 AND client_id = $3",
        vec![time(not_before), text(realm_id), text(client_id)],
    )
}

pub fn delete_client(realm_id: &str, client_id: &str) -> Statement {
    statement(
        "DELETE FROM clients WHERE realm_id = $1 AND client_id = $2",
        vec![text(realm_id), text(client_id)],
    )
}

pub fn all_client_keys() -> Statement {
    statement(CLIENT_KEYS, vec![])
}

pub fn keys_of(owner_id: &str) -> Statement {
    statement(
        format!("{CLIENT_KEYS} WHERE owner_id = $1 ORDER BY created_at, kid"),
        vec![text(owner_id)],
    )
}

pub fn insert_client_key(key: &ClientKey) -> Statement {
    statement(
        "INSERT INTO client_keys (kid, realm_id, owner_id, alg, public_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            text(&key.kid),
            text(&key.realm_id),
            text(&key.owner_id),
            text(key.alg.as_str()),
            Param::Bytes(key.public_key.clone()),
            time(key.created_at),
        ],
    )
}

pub fn delete_client_key(owner_id: &str, kid: &str) -> Statement {
    statement(
        "DELETE FROM client_keys WHERE owner_id = $1 AND kid = $2",
        vec![text(owner_id), text(kid)],
    )
}

pub fn all_revoked_tokens() -> Statement {
    statement(
        "SELECT realm_id, jti, expires_at FROM revoked_tokens",
        vec![],
    )
}

pub fn insert_revoked_token(token: &RevokedToken) -> Statement {
    statement(
        "INSERT INTO revoked_tokens (realm_id, jti, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
        vec![
            text(&token.realm_id),
            text(&token.jti),
            time(token.expires_at),
        ],
    )
}

pub fn insert_jti(realm_id: &str, owner_id: &str, jti: &str, expires_at: UnixTime) -> Statement {
    statement(
        "INSERT INTO used_jtis (realm_id, owner_id, jti, expires_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
        vec![text(realm_id), text(owner_id), text(jti), time(expires_at)],
    )
}

pub fn purge_expired(now: UnixTime) -> [Statement; 3] {
    [
        statement(
            "DELETE FROM used_jtis WHERE expires_at < $1",
            vec![time(now)],
        ),
        statement(
            "DELETE FROM revoked_tokens WHERE expires_at < $1",
            vec![time(now)],
        ),
        statement(
            "DELETE FROM realm_keys WHERE NOT active AND publish_until < $1",
            vec![time(now)],
        ),
    ]
}

pub fn realm(row: &dyn Fields) -> StoreResult<Realm> {
    Ok(Realm {
        id: row.text("id")?,
        name: row.text("name")?,
        token_lifetime: opt_lifetime(row.opt_int("token_lifetime")?),
        signing_alg: alg(&row.text("signing_alg")?)?,
        strict_assertions: row.flag("strict_assertions")?,
        created_at: unix(row.int("created_at")?),
    })
}

pub fn realm_key(row: &dyn Fields) -> StoreResult<RealmKey> {
    Ok(RealmKey {
        kid: row.text("kid")?,
        realm_id: row.text("realm_id")?,
        alg: alg(&row.text("alg")?)?,
        private_key: SecretBox::new(row.bytes("private_key")?.into_boxed_slice()),
        active: row.flag("active")?,
        publish_until: row.opt_int("publish_until")?.map(unix),
        created_at: unix(row.int("created_at")?),
    })
}

pub fn client(row: &dyn Fields) -> StoreResult<Client> {
    Ok(Client {
        id: row.text("id")?,
        realm_id: row.text("realm_id")?,
        client_id: row.text("client_id")?,
        secret_hash: Some(row.bytes("secret_hash")?).filter(|h| !h.is_empty()),
        enabled: row.flag("enabled")?,
        scopes: parse_json(&row.text("scopes")?)?,
        default_scopes: parse_json(&row.text("default_scopes")?)?,
        grant_types: parse_json(&row.text("grant_types")?)?,
        audience: parse_json(&row.text("audience")?)?,
        token_lifetime: opt_lifetime(row.opt_int("token_lifetime")?),
        not_before: unix(row.int("not_before")?),
        created_at: unix(row.int("created_at")?),
    })
}

pub fn client_key(row: &dyn Fields) -> StoreResult<ClientKey> {
    Ok(ClientKey {
        kid: row.text("kid")?,
        realm_id: row.text("realm_id")?,
        owner_id: row.text("owner_id")?,
        alg: alg(&row.text("alg")?)?,
        public_key: row.bytes("public_key")?,
        created_at: unix(row.int("created_at")?),
    })
}

pub fn revoked_token(row: &dyn Fields) -> StoreResult<RevokedToken> {
    Ok(RevokedToken {
        realm_id: row.text("realm_id")?,
        jti: row.text("jti")?,
        expires_at: unix(row.int("expires_at")?),
    })
}

fn alg(value: &str) -> StoreResult<SigningAlg> {
    value.parse().map_err(StoreError::Corrupt)
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn unix(value: i64) -> UnixTime {
    u64::try_from(value).unwrap_or(0)
}

fn opt_lifetime(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}
