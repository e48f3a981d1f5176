//! The issuer's keys, fetched from its JWKS and refetched when a token names a key not seen yet
//! (at most once per cooldown, so made-up key ids cannot make us hammer the issuer).

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{BuildError, VerifyError, VerifyingKey};

struct Keys {
    by_kid: HashMap<String, Arc<VerifyingKey>>,
    /// Keys published without a `kid`.
    anonymous: Vec<Arc<VerifyingKey>>,
    fetched_at: Instant,
}

pub(crate) struct KeyCache {
    url: String,
    http: reqwest::Client,
    keys: RwLock<Arc<Keys>>,
    /// When the last refetch started (the initial load does not count); held while fetching,
    /// so fetches never overlap.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    cooldown: Duration,
    max_age: Duration,
}

impl KeyCache {
    pub async fn load(
        url: String,
        http: reqwest::Client,
        cooldown: Duration,
        max_age: Duration,
    ) -> Result<Self, BuildError> {
        let keys = fetch(&http, &url)
            .await
            .map_err(|reason| BuildError::Fetch {
                url: url.clone(),
                reason,
            })?;
        Ok(KeyCache {
            url,
            http,
            keys: RwLock::new(Arc::new(keys)),
            last_fetch: tokio::sync::Mutex::new(None),
            cooldown,
            max_age,
        })
    }

    fn current(&self) -> Arc<Keys> {
        match self.keys.read() {
            Ok(keys) => Arc::clone(&keys),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// The keys that may have signed a token with this `kid` and `alg`.
    pub async fn candidates(
        &self,
        kid: Option<&str>,
        alg: &str,
    ) -> Result<Vec<Arc<VerifyingKey>>, VerifyError> {
        let keys = self.current();
        let found = lookup(&keys, kid, alg);
        let stale = keys.fetched_at.elapsed() > self.max_age;
        if !found.is_empty() && !stale {
            return Ok(found);
        }
        match self.refetch().await {
            Ok(()) => {}
            // Stale keys still verify while the issuer is unreachable.
            Err(_) if !found.is_empty() => return Ok(found),
            Err(reason) => return Err(VerifyError::Unavailable(reason)),
        }
        let found = lookup(&self.current(), kid, alg);
        if found.is_empty() {
            Err(VerifyError::UnknownKey)
        } else {
            Ok(found)
        }
    }

    /// Fetches the JWKS again unless that happened within the cooldown.
    async fn refetch(&self) -> Result<(), String> {
        let mut last_fetch = self.last_fetch.lock().await;
        if last_fetch.is_some_and(|at| at.elapsed() < self.cooldown) {
            return Ok(());
        }
        *last_fetch = Some(Instant::now());
        let keys = fetch(&self.http, &self.url).await.inspect_err(|reason| {
            tracing::warn!(url = %self.url, %reason, "cannot refresh the JWKS");
        })?;
        match self.keys.write() {
            Ok(mut current) => *current = Arc::new(keys),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(keys),
        }
        Ok(())
    }
}

fn lookup(keys: &Keys, kid: Option<&str>, alg: &str) -> Vec<Arc<VerifyingKey>> {
    let matching = |key: &&Arc<VerifyingKey>| key.alg().as_str() == alg;
    match kid {
        Some(kid) => keys
            .by_kid
            .get(kid)
            .filter(matching)
            .cloned()
            .into_iter()
            .collect(),
        None => keys
            .by_kid
            .values()
            .chain(&keys.anonymous)
            .filter(matching)
            .cloned()
            .collect(),
    }
}

/// Fetches and parses a JWKS, keeping the signature keys this library can use and skipping the
/// others (encryption keys, other algorithms).
async fn fetch(http: &reqwest::Client, url: &str) -> Result<Keys, String> {
    let response = http.get(url).send().await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("status {}", response.status()));
    }
    let jwks: Value = response.json().await.map_err(|e| e.to_string())?;
    let entries = jwks
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("not a JWKS: no keys array")?;
    let mut keys = Keys {
        by_kid: HashMap::new(),
        anonymous: Vec::new(),
        fetched_at: Instant::now(),
    };
    for entry in entries {
        if entry
            .get("use")
            .and_then(Value::as_str)
            .is_some_and(|u| u != "sig")
        {
            continue;
        }
        let Ok(key) = VerifyingKey::from_jwk(entry, None) else {
            continue;
        };
        match entry.get("kid").and_then(Value::as_str) {
            Some(kid) => {
                keys.by_kid.insert(kid.to_owned(), Arc::new(key));
            }
            None => keys.anonymous.push(Arc::new(key)),
        }
    }
    Ok(keys)
}
