use std::{
    sync::Arc,
    time::{Duration, UNIX_EPOCH},
};

use secrecy::SecretString;
use serde_json::{Map, Value};

use crate::{
    BuildError, Claims, Jws, JwsError, VerifyError, http_client, introspection::Introspector,
    jwks::KeyCache,
};

/// Seconds since the Unix epoch; replaceable for tests.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Verifies access tokens of one issuer. Cheap to clone; clones share the key cache.
#[derive(Clone)]
pub struct Verifier(Arc<Inner>);

struct Inner {
    issuer: Option<String>,
    audiences: Vec<String>,
    leeway: u64,
    keys: KeyCache,
    introspector: Option<Introspector>,
    clock: Clock,
}

/// Configures a [`Verifier`]; see [`Verifier::builder`].
pub struct VerifierBuilder {
    issuer: Option<String>,
    jwks_url: Option<String>,
    audiences: Vec<String>,
    any_audience: bool,
    leeway: Duration,
    jwks_cooldown: Duration,
    jwks_max_age: Duration,
    http: Option<reqwest::Client>,
    introspection: Option<(String, SecretString, Duration)>,
    clock: Option<Clock>,
}

impl Verifier {
    /// Starts a configuration: name the issuer (its discovery document gives the JWKS) or a
    /// JWKS URL, and the audience.
    pub fn builder() -> VerifierBuilder {
        VerifierBuilder {
            issuer: None,
            jwks_url: None,
            audiences: Vec::new(),
            any_audience: false,
            leeway: Duration::from_secs(60),
            jwks_cooldown: Duration::from_secs(10),
            jwks_max_age: Duration::from_secs(3600),
            http: None,
            introspection: None,
            clock: None,
        }
    }

    /// Verifies `token`: signature (the algorithm is the key's), `exp`/`nbf` with leeway, `iss`,
    /// `aud`, and in online mode whether the issuer still deems it active.
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let inner = &self.0;
        let jws = Jws::parse(token).map_err(VerifyError::Jws)?;
        let keys = inner
            .keys
            .candidates(jws.header.kid.as_deref(), &jws.header.alg)
            .await?;
        if !keys.iter().any(|key| jws.verify(key).is_ok()) {
            return Err(VerifyError::Jws(JwsError::BadSignature));
        }
        let claims: Map<String, Value> =
            serde_json::from_slice(&jws.payload).map_err(|_| VerifyError::Claims)?;
        let claims = Claims::new(claims);

        let now = (inner.clock)();
        let exp = claims.expires_at().ok_or(VerifyError::MissingExpiry)?;
        if exp.saturating_add(inner.leeway) < now {
            return Err(VerifyError::Expired);
        }
        let nbf = claims.get("nbf").and_then(Value::as_f64);
        if nbf.is_some_and(|nbf| nbf as u64 > now.saturating_add(inner.leeway)) {
            return Err(VerifyError::NotYetValid);
        }
        if let Some(issuer) = &inner.issuer {
            if claims.issuer() != Some(issuer.as_str()) {
                return Err(VerifyError::WrongIssuer);
            }
        }
        if !inner.audiences.is_empty()
            && !claims
                .audiences()
                .iter()
                .any(|aud| inner.audiences.iter().any(|a| a == aud))
        {
            return Err(VerifyError::WrongAudience);
        }
        if let Some(introspector) = &inner.introspector {
            if !introspector.is_active(token).await? {
                return Err(VerifyError::Inactive);
            }
        }
        Ok(claims)
    }

    /// [`verify`](Self::verify), then requires every one of `scopes`.
    pub async fn verify_with_scopes(
        &self,
        token: &str,
        scopes: &[String],
    ) -> Result<Claims, VerifyError> {
        let claims = self.verify(token).await?;
        if scopes.iter().all(|scope| claims.has_scope(scope)) {
            Ok(claims)
        } else {
            Err(VerifyError::InsufficientScope(scopes.to_vec()))
        }
    }
}

impl VerifierBuilder {
    /// The issuer URL (for Tessera and Keycloak, `https://host/realms/REALM`). Tokens must name
    /// it in `iss`; unless [`jwks_url`](Self::jwks_url) is set, its discovery document says
    /// where the keys are.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into().trim_end_matches('/').to_owned());
        self
    }

    /// Where the keys are, instead of discovery.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// An accepted `aud`; tokens must name at least one. Repeatable.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Accepts any `aud`. Only where every token of the issuer is meant for this service.
    pub fn allow_any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Clock skew tolerated on `exp` and `nbf` (default 60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Minimum time between JWKS fetches caused by unknown key ids (default 10 s).
    pub fn jwks_cooldown(mut self, cooldown: Duration) -> Self {
        self.jwks_cooldown = cooldown;
        self
    }

    /// Keys older than this are refetched at the next verification (default 1 h), so a key the
    /// issuer withdrew stops being trusted.
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.jwks_max_age = max_age;
        self
    }

    /// Online mode: also ask the issuer's introspection endpoint whether each token is still
    /// active, authenticating as this client; answers are cached for `cache_ttl` per token.
    pub fn introspection(
        mut self,
        client_id: impl Into<String>,
        client_secret: SecretString,
        cache_ttl: Duration,
    ) -> Self {
        self.introspection = Some((client_id.into(), client_secret, cache_ttl));
        self
    }

    /// The HTTP client for discovery, JWKS and introspection (default: HTTPS with the system's
    /// CA store, 10 s timeout).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Replaces the wall clock (seconds since the Unix epoch), for tests.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Fetches discovery (if needed) and the keys, and returns the verifier.
    pub async fn build(self) -> Result<Verifier, BuildError> {
        if self.audiences.is_empty() && !self.any_audience {
            return Err(BuildError::Config(
                "set an audience (or allow_any_audience)",
            ));
        }
        let http = match self.http {
            Some(http) => http,
            None => http_client::default_client()?,
        };
        let discovery = match (&self.issuer, &self.jwks_url, &self.introspection) {
            (Some(issuer), None, _) | (Some(issuer), _, Some(_)) => {
                Some(discover(&http, issuer).await?)
            }
            (None, None, _) => return Err(BuildError::Config("set an issuer or a JWKS URL")),
            _ => None,
        };
        let endpoint = |name: &str| {
            discovery
                .as_ref()
                .and_then(|doc| doc.get(name))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let jwks_url = match self.jwks_url {
            Some(url) => url,
            None => endpoint("jwks_uri")
                .ok_or(BuildError::Config("the discovery document has no jwks_uri"))?,
        };
        let introspector = match self.introspection {
            Some((client_id, secret, ttl)) => {
                let endpoint = endpoint("introspection_endpoint").ok_or(BuildError::Config(
                    "online mode needs an issuer whose discovery names an introspection_endpoint",
                ))?;
                Some(Introspector::new(
                    endpoint,
                    client_id,
                    secret,
                    http.clone(),
                    ttl,
                ))
            }
            None => None,
        };
        let keys = KeyCache::load(jwks_url, http, self.jwks_cooldown, self.jwks_max_age).await?;
        Ok(Verifier(Arc::new(Inner {
            issuer: self.issuer,
            audiences: if self.any_audience {
                Vec::new()
            } else {
                self.audiences
            },
            leeway: self.leeway.as_secs(),
            keys,
            introspector,
            clock: self.clock.unwrap_or_else(|| Arc::new(system_time)),
        })))
    }
}

/// The issuer's OpenID discovery document (`{issuer}/.well-known/openid-configuration`),
/// checked to name the same issuer.
pub async fn discover(http: &reqwest::Client, issuer: &str) -> Result<Value, BuildError> {
    let url = format!("{issuer}/.well-known/openid-configuration");
    let failed = |reason: String| BuildError::Fetch {
        url: url.clone(),
        reason,
    };
    let response = http
        .get(&url)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !response.status().is_success() {
        return Err(failed(format!("status {}", response.status())));
    }
    let doc: Value = response.json().await.map_err(|e| failed(e.to_string()))?;
    let found = doc
        .get("issuer")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if found != issuer {
        return Err(BuildError::IssuerMismatch {
            url,
            found: found.to_owned(),
            expected: issuer.to_owned(),
        });
    }
    Ok(doc)
}

#[allow(clippy::disallowed_methods)] // the one place that reads the wall clock
fn system_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}
