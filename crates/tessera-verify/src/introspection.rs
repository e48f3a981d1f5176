//! Online mode: ask the issuer whether a token is still active (RFC 7662), so revoked tokens and
//! tokens of disabled clients are refused. Answers are cached briefly per token.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use aws_lc_rs::digest;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::VerifyError;

/// Beyond this many cached answers, expired ones are dropped (and all, if none expired).
const MAX_CACHED: usize = 10_000;

pub(crate) struct Introspector {
    pub endpoint: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub http: reqwest::Client,
    pub ttl: Duration,
    /// SHA-256 of the token → (active, when asked). Tokens themselves are not kept.
    cache: Mutex<HashMap<[u8; 32], (bool, Instant)>>,
}

impl Introspector {
    pub fn new(
        endpoint: String,
        client_id: String,
        client_secret: SecretString,
        http: reqwest::Client,
        ttl: Duration,
    ) -> Self {
        Introspector {
            endpoint,
            client_id,
            client_secret,
            http,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub async fn is_active(&self, token: &str) -> Result<bool, VerifyError> {
        let mut key = [0u8; 32];
        key.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
        if let Some(active) = self.cached(&key) {
            return Ok(active);
        }
        let unavailable = |reason: String| {
            tracing::warn!(endpoint = %self.endpoint, %reason, "introspection failed");
            VerifyError::Unavailable("the introspection endpoint did not answer".into())
        };
        let response = self
            .http
            .post(&self.endpoint)
            .form(&[
                ("token", token),
                ("client_id", &self.client_id),
                ("client_secret", self.client_secret.expose_secret()),
            ])
            .send()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        if !response.status().is_success() {
            return Err(unavailable(format!("status {}", response.status())));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let active = body.get("active").and_then(Value::as_bool) == Some(true);
        self.remember(key, active);
        Ok(active)
    }

    fn cached(&self, key: &[u8; 32]) -> Option<bool> {
        let cache = self.cache.lock().ok()?;
        cache
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(active, _)| *active)
    }

    fn remember(&self, key: [u8; 32], active: bool) {
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, (_, at)| at.elapsed() < self.ttl);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(key, (active, Instant::now()));
    }
}
