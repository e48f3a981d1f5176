//! The in-memory view the hot path reads: realms with parsed signing keys, pre-rendered JWKS and
//! clients by id. It is swapped whole when the store's revision moves, so readers never lock.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, RwLock},
    time::Duration,
};

use arc_swap::ArcSwap;
use axum::body::Bytes;
use secrecy::ExposeSecret;

use super::{Client, Contents, Realm, Store, StoreResult};
use crate::keys::{JwkSet, SigningKey, VerifyingKey};

/// How often running servers look for changes made elsewhere (CLI, other instances).
pub const REFRESH_INTERVAL: Duration = Duration::from_millis(250);
/// With change notifications (PostgreSQL), the periodic check is only a safety net.
pub const SAFETY_NET_INTERVAL: Duration = Duration::from_secs(1);

/// One realm, ready to issue tokens.
#[derive(Debug)]
pub struct RealmState {
    pub realm: Realm,
    /// `{public-url}/realms/{name}`: the `iss` of every token and the discovery `issuer`.
    pub issuer: String,
    pub signing_key: Arc<SigningKey>,
    /// The realm's JWKS document, rendered once.
    pub jwks: Bytes,
    /// What an assertion's `aud` may name: the issuer, or an endpoint that accepts assertions.
    pub assertion_audiences: Vec<String>,
    clients: HashMap<String, Arc<Client>>,
    client_keys: HashMap<String, Arc<RegisteredKey>>,
    /// The same keys by their owner's `Client::id`.
    keys_by_owner: HashMap<String, Vec<Arc<RegisteredKey>>>,
    /// Every published signing key by kid (the active one and rotated-out ones).
    token_keys: HashMap<String, Arc<SigningKey>>,
    /// Ids of revoked tokens not yet expired. Revocations on this instance are added at once;
    /// others arrive with the next reload.
    revoked: RwLock<HashSet<String>>,
}

impl RealmState {
    pub fn client(&self, client_id: &str) -> Option<&Client> {
        self.clients.get(client_id).map(Arc::as_ref)
    }

    /// The client key with this `kid`, whoever owns it.
    pub fn client_key(&self, kid: &str) -> Option<&RegisteredKey> {
        self.client_keys.get(kid).map(Arc::as_ref)
    }

    /// The realm key with this `kid`, to check a token it signed.
    pub fn token_key(&self, kid: &str) -> Option<&SigningKey> {
        self.token_keys.get(kid).map(Arc::as_ref)
    }

    pub fn is_revoked(&self, jti: &str) -> bool {
        match self.revoked.read() {
            Ok(revoked) => revoked.contains(jti),
            Err(poisoned) => poisoned.into_inner().contains(jti),
        }
    }

    /// The keys of the client with `Client::id` `owner_id`.
    pub fn keys_of(&self, owner_id: &str) -> impl Iterator<Item = &RegisteredKey> {
        self.keys_by_owner
            .get(owner_id)
            .into_iter()
            .flatten()
            .map(Arc::as_ref)
    }
}

/// A client's public key, parsed.
#[derive(Debug)]
pub struct RegisteredKey {
    pub kid: String,
    /// `Client::id` of the owner.
    pub owner_id: String,
    /// The owner's client id.
    pub client_id: String,
    pub key: VerifyingKey,
    spki: Vec<u8>,
}

/// Every realm as of one store revision.
#[derive(Debug, Default)]
pub struct Directory {
    revision: i64,
    realms: HashMap<String, Arc<RealmState>>,
    /// Parsed keys by kid, reused by the next reload (parsing RSA keys is not free).
    keys: HashMap<String, Arc<SigningKey>>,
    /// Parsed client keys by (realm id, kid), likewise.
    client_keys: HashMap<(String, String), Arc<RegisteredKey>>,
}

impl Directory {
    pub fn realm(&self, name: &str) -> Option<&Arc<RealmState>> {
        self.realms.get(name)
    }

    fn build(contents: Contents, urls: &Urls, previous: &Directory) -> Directory {
        let mut keys = HashMap::new();
        let mut realm_keys: HashMap<&str, Vec<PublishedKey>> = HashMap::new();
        for key in &contents.keys {
            let parsed = match previous.keys.get(&key.kid) {
                Some(parsed) => Arc::clone(parsed),
                None => match SigningKey::from_pkcs8(
                    key.kid.clone(),
                    key.alg,
                    key.private_key.expose_secret(),
                ) {
                    Ok(parsed) => Arc::new(parsed),
                    Err(error) => {
                        tracing::error!(%error, realm_id = %key.realm_id, "skipping unusable signing key");
                        continue;
                    }
                },
            };
            keys.insert(key.kid.clone(), Arc::clone(&parsed));
            realm_keys
                .entry(key.realm_id.as_str())
                .or_default()
                .push(PublishedKey {
                    active: key.active,
                    created_at: key.created_at,
                    key: parsed,
                });
        }

        let mut clients: HashMap<&str, HashMap<String, Arc<Client>>> = HashMap::new();
        let mut client_ids: HashMap<&str, &str> = HashMap::new();
        for client in &contents.clients {
            client_ids.insert(client.id.as_str(), client.client_id.as_str());
            clients
                .entry(client.realm_id.as_str())
                .or_default()
                .insert(client.client_id.clone(), Arc::new(client.clone()));
        }

        let mut all_client_keys = HashMap::new();
        let mut client_keys: HashMap<&str, HashMap<String, Arc<RegisteredKey>>> = HashMap::new();
        for stored in &contents.client_keys {
            let id = (stored.realm_id.clone(), stored.kid.clone());
            let reusable = previous
                .client_keys
                .get(&id)
                .filter(|k| k.spki == stored.public_key && k.owner_id == stored.owner_id);
            let registered = match reusable {
                Some(key) => Arc::clone(key),
                None => {
                    let Some(client_id) = client_ids.get(stored.owner_id.as_str()) else {
                        continue;
                    };
                    match VerifyingKey::from_spki_der(stored.alg, &stored.public_key) {
                        Ok(key) => Arc::new(RegisteredKey {
                            kid: stored.kid.clone(),
                            owner_id: stored.owner_id.clone(),
                            client_id: (*client_id).to_owned(),
                            key,
                            spki: stored.public_key.clone(),
                        }),
                        Err(error) => {
                            tracing::error!(%error, kid = %stored.kid, "skipping unusable client key");
                            continue;
                        }
                    }
                }
            };
            client_keys
                .entry(stored.realm_id.as_str())
                .or_default()
                .insert(stored.kid.clone(), Arc::clone(&registered));
            all_client_keys.insert(id, registered);
        }

        let mut revoked: HashMap<&str, HashSet<String>> = HashMap::new();
        for token in &contents.revoked_tokens {
            revoked
                .entry(token.realm_id.as_str())
                .or_default()
                .insert(token.jti.clone());
        }

        let mut realms = HashMap::new();
        for realm in contents.realms {
            let keys = realm_keys.remove(realm.id.as_str()).unwrap_or_default();
            // The newest active key signs; all of the realm's keys are published.
            let Some(signing_key) = keys
                .iter()
                .filter(|k| k.active)
                .max_by_key(|k| k.created_at)
                .map(|k| Arc::clone(&k.key))
            else {
                tracing::error!(realm = %realm.name, "realm has no usable active signing key; not serving it");
                continue;
            };
            let jwks = JwkSet {
                keys: keys.iter().map(|k| k.key.public_jwk().clone()).collect(),
            };
            let issuer = format!("{}/realms/{}", urls.public_url, realm.name);
            let mut assertion_audiences = vec![
                format!("{issuer}/protocol/openid-connect/token"),
                format!("{issuer}/protocol/openid-connect/token/introspect"),
                format!("{issuer}/protocol/openid-connect/revoke"),
                issuer.clone(),
            ];
            if urls.frontier_realm.as_deref() == Some(realm.name.as_str()) {
                assertion_audiences.push(format!("{}/v1beta1/auth/token", urls.public_url));
            }
            let state = RealmState {
                assertion_audiences,
                issuer,
                signing_key,
                jwks: Bytes::from(serde_json::to_vec(&jwks).unwrap_or_default()),
                clients: clients.remove(realm.id.as_str()).unwrap_or_default(),
                keys_by_owner: by_owner(client_keys.get(realm.id.as_str())),
                client_keys: client_keys.remove(realm.id.as_str()).unwrap_or_default(),
                token_keys: keys
                    .iter()
                    .map(|k| (k.key.kid().to_owned(), Arc::clone(&k.key)))
                    .collect(),
                revoked: RwLock::new(revoked.remove(realm.id.as_str()).unwrap_or_default()),
                realm,
            };
            realms.insert(state.realm.name.clone(), Arc::new(state));
        }
        Directory {
            revision: contents.revision,
            realms,
            keys,
            client_keys: all_client_keys,
        }
    }
}

fn by_owner(
    keys: Option<&HashMap<String, Arc<RegisteredKey>>>,
) -> HashMap<String, Vec<Arc<RegisteredKey>>> {
    let mut by_owner: HashMap<String, Vec<Arc<RegisteredKey>>> = HashMap::new();
    for key in keys.into_iter().flat_map(HashMap::values) {
        by_owner
            .entry(key.owner_id.clone())
            .or_default()
            .push(Arc::clone(key));
    }
    by_owner
}

/// A realm key while a directory is built.
struct PublishedKey {
    active: bool,
    created_at: u64,
    key: Arc<SigningKey>,
}

/// Where the realms are served, which issuers and accepted audiences derive from.
#[derive(Debug, Clone)]
pub struct Urls {
    /// Without a trailing slash.
    pub public_url: String,
    /// The realm the Frontier endpoints serve, if any.
    pub frontier_realm: Option<String>,
}

pub struct Cache {
    store: Arc<dyn Store>,
    urls: Urls,
    current: ArcSwap<Directory>,
    /// Held while reloading, so reloads neither overlap nor go back in time.
    reloading: tokio::sync::Mutex<()>,
    /// When the store was last checked for changes successfully.
    checked: std::sync::Mutex<std::time::Instant>,
}

impl Cache {
    /// Loads everything from `store`.
    pub async fn load(store: Arc<dyn Store>, urls: Urls) -> StoreResult<Cache> {
        let directory = Directory::build(store.load().await?, &urls, &Directory::default());
        Ok(Cache {
            store,
            urls,
            current: ArcSwap::from_pointee(directory),
            reloading: tokio::sync::Mutex::new(()),
            checked: std::sync::Mutex::new(std::time::Instant::now()),
        })
    }

    /// How long since the store was last checked for changes successfully.
    pub fn staleness(&self) -> Duration {
        self.checked.lock().map_or(Duration::MAX, |at| at.elapsed())
    }

    pub fn directory(&self) -> Arc<Directory> {
        self.current.load_full()
    }

    /// Reloads if the store changed since the last load. Returns whether it did.
    pub async fn refresh(&self) -> StoreResult<bool> {
        let _reloading = self.reloading.lock().await;
        let current = self.current.load_full();
        if self.store.revision().await? == current.revision {
            self.mark_checked();
            return Ok(false);
        }
        let contents = self.store.load().await?;
        let directory = Directory::build(contents, &self.urls, &current);
        self.mark_checked();
        tracing::info!(revision = directory.revision, "reloaded realms and clients");
        self.current.store(Arc::new(directory));
        Ok(true)
    }

    fn mark_checked(&self) {
        if let Ok(mut checked) = self.checked.lock() {
            *checked = std::time::Instant::now();
        }
    }

    /// Makes a revocation this instance just recorded effective at once, without a reload.
    pub async fn mark_revoked(&self, realm: &str, jti: &str) {
        // After any reload that may have read the store before the revocation was written.
        let _reloading = self.reloading.lock().await;
        if let Some(state) = self.current.load().realm(realm) {
            let mut revoked = match state.revoked.write() {
                Ok(revoked) => revoked,
                Err(poisoned) => poisoned.into_inner(),
            };
            revoked.insert(jti.to_owned());
        }
    }

    /// Refreshes when the store signals a change, and every [`REFRESH_INTERVAL`] (with
    /// notifications: [`SAFETY_NET_INTERVAL`]), until the task is dropped or aborted.
    pub async fn keep_fresh(self: Arc<Self>) {
        let changes = self.store.changes();
        let interval = if changes.is_some() {
            SAFETY_NET_INTERVAL
        } else {
            REFRESH_INTERVAL
        };
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let changed = || async {
            match &changes {
                Some(notify) => notify.notified().await,
                None => std::future::pending().await,
            }
        };
        let mut failing = false;
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = changed() => {}
            }
            match self.refresh().await {
                Ok(_) if failing => {
                    tracing::info!("database reachable again");
                    failing = false;
                }
                Ok(_) => {}
                Err(error) if !failing => {
                    tracing::warn!(%error, "cannot check the database for changes; serving cached data");
                    failing = true;
                }
                Err(_) => {}
            }
        }
    }
}
