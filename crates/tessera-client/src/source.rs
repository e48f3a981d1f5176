//! The token source: one cached token per source, refreshed ahead of expiry by one request at a
//! time, with retries that back off.

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::watch;

use crate::{Error, KeySigner};

/// An access token and when to use it until.
pub struct AccessToken {
    value: SecretString,
    /// Granted scope, if the server said.
    pub scope: Option<String>,
    /// When the server says it expires.
    pub expires_at: Instant,
    /// When a fresh one is fetched instead.
    refresh_at: Instant,
}

impl AccessToken {
    /// The token, for `Authorization: Bearer …`.
    pub fn secret(&self) -> &str {
        self.value.expose_secret()
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("scope", &self.scope)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// How the client proves itself.
pub enum Credential {
    /// A client secret, sent with HTTP Basic (or in the body, see
    /// [`TokenSourceBuilder::secret_in_body`]).
    Secret(SecretString),
    /// A private key: a fresh assertion for each request.
    Key(KeySigner),
}

/// With a key, which grant: RFC 7523 2.2 client authentication with the client_credentials
/// grant (Keycloak, Tessera), or the jwt-bearer grant itself (Frontier).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyGrant {
    PrivateKeyJwt,
    JwtBearer,
}

/// Retries on network errors, 429 and 5xx: up to `attempts` tries in all, waiting `base`, then
/// twice as long each time (at most `max_delay`, with jitter), or what `Retry-After` says.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub base: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

/// Hands out access tokens for one client and scope set. Cheap to clone; clones share the
/// cached token.
#[derive(Clone)]
pub struct TokenSource(Arc<Inner>);

struct Inner {
    token_url: String,
    client_id: String,
    credential: Credential,
    key_grant: KeyGrant,
    secret_in_body: bool,
    json_body: bool,
    scope: Option<String>,
    refresh_fraction: f64,
    refresh_margin: Duration,
    retry: RetryPolicy,
    http: reqwest::Client,
    state: Mutex<State>,
    /// Bumped each time a refresh ends; callers waiting for one watch it.
    refreshes: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    token: Option<Arc<AccessToken>>,
    /// A refresh task is running.
    refreshing: bool,
    /// After a failed refresh: no new attempt before then, and without a valid token callers get
    /// `last_error` meanwhile (the failure is shared, not repeated once per caller).
    paused_until: Option<Instant>,
    last_error: Option<Error>,
    /// When a resource server's rejection last forced a refresh.
    last_forced: Option<Instant>,
}

/// After a failed refresh, the wait before the next attempt unless the server asked for longer.
const MIN_PAUSE: Duration = Duration::from_secs(1);
/// A rejection forces a new token at most this often (a resource server that refuses every
/// token must not turn each request into a token request).
const FORCED_REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// Longer lifetimes from a server are taken as this (and never overflow an `Instant`).
const MAX_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// Configures a [`TokenSource`]; see [`TokenSource::builder`].
pub struct TokenSourceBuilder {
    issuer: Option<String>,
    token_url: Option<String>,
    client_id: String,
    credential: Option<Credential>,
    key_grant: KeyGrant,
    secret_in_body: bool,
    json_body: bool,
    scopes: Vec<String>,
    refresh_fraction: f64,
    refresh_margin: Duration,
    retry: RetryPolicy,
    http: Option<reqwest::Client>,
}

impl TokenSource {
    pub fn builder(client_id: impl Into<String>) -> TokenSourceBuilder {
        TokenSourceBuilder {
            issuer: None,
            token_url: None,
            client_id: client_id.into(),
            credential: None,
            key_grant: KeyGrant::PrivateKeyJwt,
            secret_in_body: false,
            json_body: false,
            scopes: Vec::new(),
            refresh_fraction: 0.8,
            refresh_margin: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            http: None,
        }
    }

    /// A valid token. The cached one while it is fresh; once it is due for refresh it is still
    /// returned (it is valid) while one refresh runs in the background. Without a valid token,
    /// callers wait for the one refresh in flight, and share its outcome: success or error.
    /// Refreshes run in their own task, so a caller that gives up cancels nothing.
    pub async fn token(&self) -> Result<Arc<AccessToken>, Error> {
        let mut refreshes = self.0.refreshes.subscribe();
        loop {
            {
                let mut state = self.state();
                let now = Instant::now();
                let paused = state.paused_until.is_some_and(|until| now < until);
                match state.token.clone().filter(|token| now < token.expires_at) {
                    Some(token) if now < token.refresh_at => return Ok(token),
                    Some(token) => {
                        if !state.refreshing && !paused {
                            self.start_refresh(&mut state);
                        }
                        return Ok(token);
                    }
                    None if paused => {
                        if let Some(error) = state.last_error.clone() {
                            return Err(error);
                        }
                    }
                    None if !state.refreshing => self.start_refresh(&mut state),
                    None => {}
                }
            }
            // A refresh is in flight: wait for it to end, then look again.
            if refreshes.changed().await.is_err() {
                return Err(Error::Unavailable {
                    attempts: 0,
                    last: "the token source is gone".into(),
                });
            }
        }
    }

    /// Drops `rejected` from the cache because a resource server refused it, so the next
    /// [`token`](Self::token) gets a new one. Returns whether it did: not if a newer token is
    /// already cached, nor more often than every 10 s.
    pub fn invalidate(&self, rejected: &AccessToken) -> bool {
        let mut state = self.state();
        let now = Instant::now();
        let same = state
            .token
            .as_ref()
            .is_some_and(|t| t.secret() == rejected.secret());
        let allowed = state
            .last_forced
            .is_none_or(|at| now.duration_since(at) >= FORCED_REFRESH_INTERVAL);
        if same && allowed {
            state.token = None;
            state.paused_until = None;
            state.last_forced = Some(now);
        }
        same && allowed
    }

    fn state(&self) -> MutexGuard<'_, State> {
        match self.0.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Starts the one refresh task; its outcome goes into the state for every caller.
    fn start_refresh(&self, state: &mut State) {
        state.refreshing = true;
        let source = self.clone();
        tokio::spawn(async move {
            let (outcome, retry_after) = source.fetch().await;
            {
                let mut state = source.state();
                state.refreshing = false;
                match outcome {
                    Ok(token) => {
                        state.token = Some(Arc::new(token));
                        state.paused_until = None;
                        state.last_error = None;
                    }
                    Err(error) => {
                        let now = Instant::now();
                        if state.token.as_ref().is_some_and(|t| now < t.expires_at) {
                            tracing::warn!(%error, "token refresh failed; using the current token while it is valid");
                        }
                        let pause = retry_after.unwrap_or(MIN_PAUSE).max(MIN_PAUSE);
                        state.paused_until = Some(now + pause);
                        state.last_error = Some(error);
                    }
                }
            }
            source.0.refreshes.send_modify(|n| *n += 1);
        });
    }

    /// One token request, retried as the policy says; with the server's last `Retry-After`.
    /// A `Retry-After` beyond the policy's longest wait ends the retries (the server asked for
    /// more time than the caller has).
    async fn fetch(&self) -> (Result<AccessToken, Error>, Option<Duration>) {
        let retry = self.0.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.request().await {
                Ok(token) => return (Ok(token), None),
                Err(Failure::Final(error)) => return (Err(error), None),
                Err(Failure::Retryable {
                    reason,
                    retry_after,
                }) => {
                    let give_up = attempt >= retry.attempts
                        || retry_after.is_some_and(|wait| wait > retry.max_delay);
                    if give_up {
                        let error = Error::Unavailable {
                            attempts: attempt,
                            last: reason,
                        };
                        return (Err(error), retry_after);
                    }
                    let backoff = jitter(retry.base.saturating_mul(1 << (attempt - 1).min(16)));
                    let delay = retry_after
                        .map_or(backoff, |wait| wait.max(backoff))
                        .min(retry.max_delay);
                    tracing::debug!(%reason, attempt, ?delay, "token request failed; retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }

    async fn request(&self) -> Result<AccessToken, Failure> {
        let inner = &self.0;
        let mut params: Vec<(&str, String)> = Vec::new();
        let mut request = inner
            .http
            .post(&inner.token_url)
            .header(header::ACCEPT, "application/json");
        match &inner.credential {
            Credential::Secret(secret) => {
                params.push(("grant_type", "client_credentials".into()));
                if inner.secret_in_body || inner.json_body {
                    params.push(("client_id", inner.client_id.clone()));
                    params.push(("client_secret", secret.expose_secret().to_owned()));
                } else {
                    // RFC 6749 2.3.1: both halves form-encoded before base64.
                    let encoded = format!(
                        "{}:{}",
                        form_encode(&inner.client_id),
                        form_encode(secret.expose_secret())
                    );
                    let basic = base64::engine::general_purpose::STANDARD.encode(encoded);
                    request = request.header(header::AUTHORIZATION, format!("Basic {basic}"));
                }
            }
            Credential::Key(signer) => {
                let assertion = signer
                    .assertion(&inner.client_id, &inner.token_url, unix_now())
                    .map_err(Failure::Final)?;
                match inner.key_grant {
                    KeyGrant::PrivateKeyJwt => {
                        params.push(("grant_type", "client_credentials".into()));
                        params.push(("client_id", inner.client_id.clone()));
                        params.push((
                            "client_assertion_type",
                            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                        ));
                        params.push(("client_assertion", assertion));
                    }
                    KeyGrant::JwtBearer => {
                        params.push((
                            "grant_type",
                            "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
                        ));
                        params.push(("assertion", assertion));
                    }
                }
            }
        }
        if let Some(scope) = &inner.scope {
            params.push(("scope", scope.clone()));
        }
        request = if inner.json_body {
            let body: serde_json::Map<String, Value> = params
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect();
            request.json(&body)
        } else {
            request.form(&params)
        };

        let sent = Instant::now();
        let response = request.send().await.map_err(|e| Failure::Retryable {
            reason: describe(&e),
            retry_after: None,
        })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response.json::<Value>().await;
        if status.is_success() && body.is_err() {
            return Err(Failure::Retryable {
                reason: "the token response could not be read".into(),
                retry_after: None,
            });
        }
        let body = body.unwrap_or(Value::Null);
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(Failure::Retryable {
                reason: format!("status {status}"),
                retry_after,
            });
        }
        if !status.is_success() {
            return Err(Failure::Final(refusal(status, &body)));
        }
        self.parse_token(&body, sent).map_err(Failure::Final)
    }

    fn parse_token(&self, body: &Value, sent: Instant) -> Result<AccessToken, Error> {
        let value = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::Refused {
                status: 200,
                error: "invalid_response".into(),
                description: "no access_token in the response".into(),
            })?;
        // Frontier sends no expires_in: then the token's own exp says.
        let lifetime = body
            .get("expires_in")
            .and_then(|e| e.as_u64().or_else(|| e.as_str()?.parse().ok()))
            .or_else(|| jwt_lifetime(value))
            .unwrap_or(60);
        let lifetime = Duration::from_secs(lifetime).min(MAX_LIFETIME);
        // Counted from when the request was sent, so network time only makes it earlier.
        let expires_at = sent.checked_add(lifetime).unwrap_or(sent);
        let lead = lifetime
            .mul_f64(1.0 - self.0.refresh_fraction)
            .max(self.0.refresh_margin.min(lifetime / 2));
        // Never before the request was sent (a zero lifetime just means: refresh next time).
        let refresh_at = expires_at
            .checked_sub(lead + jitter_up_to(lifetime / 20))
            .map_or(sent, |at| at.max(sent));
        Ok(AccessToken {
            value: SecretString::from(value),
            scope: body.get("scope").and_then(Value::as_str).map(str::to_owned),
            expires_at,
            refresh_at,
        })
    }
}

impl TokenSourceBuilder {
    /// The issuer URL (`https://host/realms/REALM`): its discovery document names the token
    /// endpoint.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into().trim_end_matches('/').to_owned());
        self
    }

    /// The token endpoint, instead of discovery.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    pub fn client_secret(mut self, secret: SecretString) -> Self {
        self.credential = Some(Credential::Secret(secret));
        self
    }

    /// A private key: each token request carries a fresh assertion signed with it.
    pub fn private_key(mut self, signer: KeySigner) -> Self {
        self.credential = Some(Credential::Key(signer));
        self
    }

    /// With a private key, use the jwt-bearer grant instead of private_key_jwt.
    pub fn key_grant(mut self, grant: KeyGrant) -> Self {
        self.key_grant = grant;
        self
    }

    /// Send a secret as `client_id`/`client_secret` in the body instead of HTTP Basic.
    pub fn secret_in_body(mut self) -> Self {
        self.secret_in_body = true;
        self
    }

    /// Send the request as JSON, as Raystack Frontier's `/v1beta1/auth/token` wants.
    pub fn json_body(mut self) -> Self {
        self.json_body = true;
        self
    }

    /// A scope to request. Repeatable.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scopes.push(scope.into());
        self
    }

    /// Refresh once this fraction of the lifetime has passed, or `margin` before expiry if that
    /// comes first (defaults 0.8 and 30 s; a little jitter spreads refreshes of many
    /// instances).
    pub fn refresh(mut self, fraction: f64, margin: Duration) -> Self {
        if fraction.is_finite() {
            self.refresh_fraction = fraction.clamp(0.1, 1.0);
        }
        self.refresh_margin = margin;
        self
    }

    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The HTTP client (default: HTTPS with the platform's trust store, 10 s timeout).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Resolves the token endpoint (discovery, if an issuer was given) and returns the source.
    /// No token is fetched yet.
    pub async fn build(self) -> Result<TokenSource, Error> {
        let credential = self
            .credential
            .ok_or_else(|| Error::Credentials("set a client secret or a private key".into()))?;
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .map_err(|e| Error::Discovery(e.to_string()))?,
        };
        let token_url = match (self.token_url, &self.issuer) {
            (Some(url), _) => url,
            (None, Some(issuer)) => discover_token_endpoint(&http, issuer).await?,
            (None, None) => {
                return Err(Error::Discovery("set an issuer or a token URL".into()));
            }
        };
        Ok(TokenSource(Arc::new(Inner {
            token_url,
            client_id: self.client_id,
            credential,
            key_grant: self.key_grant,
            secret_in_body: self.secret_in_body,
            json_body: self.json_body,
            scope: (!self.scopes.is_empty()).then(|| self.scopes.join(" ")),
            refresh_fraction: self.refresh_fraction,
            refresh_margin: self.refresh_margin,
            retry: self.retry,
            http,
            state: Mutex::new(State::default()),
            refreshes: watch::Sender::new(0),
        })))
    }
}

enum Failure {
    /// Worth another try (network error, 429, 5xx).
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    Final(Error),
}

/// The typed error for a 4xx answer.
fn refusal(status: StatusCode, body: &Value) -> Error {
    let field = |name: &str| {
        body.get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let description = field("error_description");
    match field("error").as_str() {
        "invalid_client" => Error::InvalidClient(description),
        "invalid_scope" => Error::InvalidScope(description),
        // Frontier: {"code": 16, "message": "not authenticated"}.
        "" if body.get("code").and_then(Value::as_u64) == Some(16) => {
            Error::InvalidClient(field("message"))
        }
        error => Error::Refused {
            status: status.as_u16(),
            error: if error.is_empty() {
                format!("status {status}")
            } else {
                error.to_owned()
            },
            description: if description.is_empty() {
                field("message")
            } else {
                description
            },
        },
    }
}

async fn discover_token_endpoint(http: &reqwest::Client, issuer: &str) -> Result<String, Error> {
    let doc = tessera_verify::discover(http, issuer)
        .await
        .map_err(|e| Error::Discovery(e.to_string()))?;
    doc.get("token_endpoint")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::Discovery(format!("{issuer} names no token_endpoint")))
}

/// Seconds from now to the JWT's `exp`, read without verifying (the client only schedules by it).
fn jwt_lifetime(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    claims.get("exp")?.as_u64()?.checked_sub(unix_now())
}

/// Form-URL-encoding (RFC 6749 2.3.1 / appendix B).
fn form_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                encoded.push(char::from(byte));
            }
            b' ' => encoded.push('+'),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `delay` give or take a quarter.
fn jitter(delay: Duration) -> Duration {
    delay.mul_f64(0.75 + random_fraction() / 2.0)
}

fn jitter_up_to(max: Duration) -> Duration {
    max.mul_f64(random_fraction())
}

fn random_fraction() -> f64 {
    let mut bytes = [0u8; 4];
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
}

#[allow(clippy::disallowed_methods)] // assertions carry wall-clock times
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_what_rfc_6749_says() {
        assert_eq!(form_encode("my-svc.v2_x"), "my-svc.v2_x");
        assert_eq!(
            form_encode("p@ss+w:rd/x~y!! "),
            "p%40ss%2Bw%3Ard%2Fx%7Ey%21%21+"
        );
    }
}
