//! The shared harness: a real Tessera server on a free port with a fresh database, the real CLI
//! binary against that database, and helpers that read like a user's steps.

#![allow(dead_code)]

mod database;
mod process;
mod proxy;

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;
use tempfile::TempDir;
use tessera::{
    clock::{Clock, SystemClock},
    server, store,
};
use tokio::sync::oneshot;

pub use database::{TestDatabase, postgres_server, query_scalar, run_sql, with_database};
pub use process::ServerProcess;
pub use proxy::Proxy;

/// What `tessera serve` flags would set, and the server's clock.
pub struct Setup {
    /// `--public-url`; `None` derives it from the bound address.
    pub public_url: Option<String>,
    /// `--frontier-realm`.
    pub frontier_realm: Option<String>,
    pub clock: Arc<ManualClock>,
    /// A database shared with other servers; `None` gives the server a fresh one of its own.
    pub database_url: Option<String>,
    /// How often expired records are purged (short, so tests see expiry at once).
    pub purge_interval: Duration,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            public_url: None,
            frontier_realm: Some("prod".into()),
            clock: ManualClock::new(),
            database_url: None,
            purge_interval: Duration::from_millis(200),
        }
    }
}

/// The wall clock shifted by an offset tests move, so expiry is tested without sleeping.
#[derive(Default)]
pub struct ManualClock {
    offset: std::sync::atomic::AtomicI64,
}

impl ManualClock {
    pub fn new() -> Arc<Self> {
        Arc::new(ManualClock::default())
    }

    /// Moves the clock by `secs` (negative: back).
    pub fn advance(&self, secs: i64) {
        self.offset
            .fetch_add(secs, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> u64 {
        let offset = self.offset.load(std::sync::atomic::Ordering::SeqCst);
        SystemClock.now().saturating_add_signed(offset)
    }
}

/// A server running in this process (on its own runtime and thread, so tests may block).
pub struct TestServer {
    pub url: String,
    pub address: SocketAddr,
    pub database_url: String,
    pub http: reqwest::Client,
    /// The server's clock.
    pub clock: Arc<ManualClock>,
    /// The database the server owns (dropped with it), unless it was given a shared one.
    pub database: Option<TestDatabase>,
    dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl TestServer {
    /// A server whose Frontier endpoints serve realm `prod`.
    pub fn start() -> TestServer {
        Self::start_with(Setup::default())
    }

    pub fn start_with_public_url(public_url: Option<&str>) -> TestServer {
        Self::start_with(Setup {
            public_url: public_url.map(str::to_owned),
            ..Setup::default()
        })
    }

    pub fn start_with(setup: Setup) -> TestServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = setup.database_url.is_none().then(TestDatabase::new);
        let database_url = setup
            .database_url
            .clone()
            .or_else(|| database.as_ref().map(|db| db.url.clone()))
            .expect("a database");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
        let db = database_url.clone();
        let Setup {
            public_url,
            frontier_realm,
            clock,
            purge_interval,
            ..
        } = setup;
        let server_clock = Arc::clone(&clock);
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let store = store::open(&db, store::DatabaseOptions::default())
                    .await
                    .expect("open store");
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let address = listener.local_addr().expect("address");
                let mut options =
                    server::Options::new(public_url.unwrap_or_else(|| format!("http://{address}")));
                options.frontier_realm = frontier_realm;
                options.purge_interval = purge_interval;
                ready_tx.send(address).expect("ready");
                server::serve(listener, store, server_clock, options, async {
                    let _ = shutdown_rx.await;
                })
                .await
                .expect("server");
            });
        });
        let address = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server started");
        TestServer {
            url: format!("http://{address}"),
            address,
            database_url,
            http: http_client(),
            clock,
            database,
            dir,
            shutdown: Some(shutdown_tx),
            thread: Some(thread),
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `tessera <args>` against this server's database.
    pub fn cli(&self, args: &[&str]) -> CliOutput {
        cli(&self.database_url, args, None)
    }

    /// Runs `tessera <args>` with `stdin` as standard input.
    pub fn cli_with_stdin(&self, args: &[&str], stdin: &str) -> CliOutput {
        cli(&self.database_url, args, Some(stdin))
    }

    /// `tessera realm create NAME ARGS…`, which must succeed; waits until the server serves it.
    pub async fn create_realm(&self, name: &str, args: &[&str]) {
        let mut all = vec!["realm", "create", name];
        all.extend_from_slice(args);
        self.cli(&all).success();
        let discovery = format!("{}/.well-known/openid-configuration", self.issuer(name));
        let served = eventually(|| async {
            let response = self.http.get(&discovery).send().await.ok()?;
            (response.status() == 200).then_some(())
        })
        .await;
        assert!(served.is_some(), "realm {name} not served within 1 s");
    }

    /// `tessera client create --realm R ID ARGS… --output json`; returns the generated secret.
    pub fn create_client(&self, realm: &str, client_id: &str, args: &[&str]) -> String {
        let mut all = vec!["client", "create", "--realm", realm, client_id];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--output", "json"]);
        let json = self.cli(&all).success().json();
        assert_eq!(json["client_id"], client_id);
        json["client_secret"]
            .as_str()
            .expect("client_secret")
            .to_owned()
    }

    /// A realm `realm` with a client `svc` (plus `client_args`); returns the secret. Waits until
    /// the server has picked the client up.
    pub async fn realm_with_client(&self, realm: &str, client_args: &[&str]) -> String {
        self.create_realm(realm, &[]).await;
        let secret = self.create_client(realm, "svc", client_args);
        self.wait_for_client(realm, "svc", &secret).await;
        secret
    }

    pub fn token_url(&self, realm: &str) -> String {
        format!("{}/realms/{realm}/protocol/openid-connect/token", self.url)
    }

    pub fn issuer(&self, realm: &str) -> String {
        format!("{}/realms/{realm}", self.url)
    }

    /// POSTs `form` to the realm's token endpoint with Basic credentials.
    pub async fn token_basic(
        &self,
        realm: &str,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(self.token_url(realm))
            .basic_auth(id, Some(secret))
            .form(form)
            .send()
            .await
            .expect("token request")
    }

    /// POSTs a raw body to the token endpoint.
    pub async fn token_raw(
        &self,
        realm: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.http
            .post(self.token_url(realm))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("token request")
    }

    /// Polls until `id`/`secret` gets a token, for up to the 1 s the CLI's changes may take.
    pub async fn wait_for_client(&self, realm: &str, id: &str, secret: &str) -> Value {
        let form = [("grant_type", "client_credentials")];
        let body = eventually(|| async {
            let response = self.token_basic(realm, id, secret, &form).await;
            (response.status() == 200).then_some(response)
        })
        .await
        .unwrap_or_else(|| panic!("client {id} not usable within 1 s"));
        body.json().await.expect("json")
    }
}

impl TestServer {
    /// Stops the server (as an outage would); the database stays.
    pub fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    /// `POST …/revoke` of `token` as client `id` (client_secret_basic).
    pub async fn revoke(&self, id: &str, secret: &str, token: &str) -> reqwest::Response {
        self.http
            .post(format!(
                "{}/protocol/openid-connect/revoke",
                self.issuer("prod")
            ))
            .basic_auth(id, Some(secret))
            .form(&[("token", token)])
            .send()
            .await
            .expect("revoke request")
    }

    /// A counter from `GET /metrics` (the line starting with `name`).
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// How long changes made through the CLI may take to reach a running server.
pub const PROPAGATION: Duration = Duration::from_secs(1);

/// Retries `check` every 50 ms until it yields a value or [`PROPAGATION`] has passed.
pub async fn eventually<T, F, Fut>(check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    eventually_within(PROPAGATION, check).await
}

/// Retries `check` every 50 ms until it yields a value or `limit` has passed.
pub async fn eventually_within<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

pub fn tessera_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tessera"))
}

/// A command of the real binary, with no TESSERA_* settings inherited from the environment.
pub fn tessera_command() -> Command {
    let mut command = Command::new(tessera_binary());
    for (name, _) in std::env::vars() {
        if name.starts_with("TESSERA_") {
            command.env_remove(name);
        }
    }
    command
}

pub fn cli(database_url: &str, args: &[&str], stdin: Option<&str>) -> CliOutput {
    let mut command = tessera_command();
    command
        .args(args)
        .args(["--database", database_url])
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("run tessera");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    CliOutput(child.wait_with_output().expect("tessera output"))
}

pub struct CliOutput(pub Output);

impl CliOutput {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    #[track_caller]
    pub fn success(self) -> Self {
        assert!(
            self.0.status.success(),
            "tessera failed: {}\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub fn failure(self) -> Self {
        assert!(
            !self.0.status.success(),
            "tessera unexpectedly succeeded: {}",
            self.stdout()
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.0.stdout).expect("JSON output")
    }
}

/// Decodes a JWT's header and claims without verifying it (for tests that verify separately).
pub fn jwt_parts(token: &str) -> (Value, Value) {
    use base64::Engine;
    let mut parts = token.split('.');
    let mut decode = || {
        let part = parts.next().expect("JWT part");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64url");
        serde_json::from_slice::<Value>(&bytes).expect("JSON")
    };
    (decode(), decode())
}

/// Verifies `token` as a resource server would: discovery from `issuer`, the JWKS it names, the
/// key by `kid` with the algorithm the key declares, `iss`, `aud` and `exp`. Returns the claims.
pub async fn verify_token(
    http: &reqwest::Client,
    issuer: &str,
    audience: &str,
    token: &str,
) -> Value {
    use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
    let discovery: Value = http
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(discovery["issuer"], issuer);
    let jwks: JwkSet = http
        .get(discovery["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let kid = header.kid.expect("kid in the JWT header");
    let jwk = jwks.find(&kid).expect("kid published in the JWKS");
    let alg = jwk.common.key_algorithm.expect("alg on the JWK");
    assert_eq!(
        format!("{alg:?}"),
        format!("{:?}", header.alg),
        "token alg matches its key"
    );
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .expect("token verifies against the JWKS")
        .claims
}

/// `tessera client key create … --output json`: Frontier's credentials object.
pub fn create_key(server: &TestServer, realm: &str, client: &str, alg: &str) -> Value {
    server
        .cli(&[
            "client", "key", "create", "--realm", realm, client, "--alg", alg, "--output", "json",
        ])
        .success()
        .json()
}

pub fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

/// A random assertion id.
pub fn new_jti() -> String {
    tessera::random::uuid().expect("random")
}

/// RFC 7523 claims for `client` (iss = sub = client), aimed at `audience`, valid for a minute.
pub fn assertion_claims(client: &str, audience: &str) -> Value {
    serde_json::json!({
        "iss": client,
        "sub": client,
        "aud": audience,
        "iat": now(),
        "exp": now() + 60,
        "jti": new_jti(),
    })
}

/// Signs `claims` with a PKCS#8 PEM private key using jsonwebtoken (an independent JOSE
/// implementation), `kid` in the header.
pub fn sign_assertion(
    private_key_pem: &str,
    alg: &str,
    kid: Option<&str>,
    claims: &Value,
) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let (algorithm, key) = match alg {
        "RS256" => (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(private_key_pem.as_bytes()),
        ),
        "ES256" => (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(private_key_pem.as_bytes()),
        ),
        "EdDSA" => (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(private_key_pem.as_bytes()),
        ),
        other => panic!("no test signer for {other}"),
    };
    let mut header = Header::new(algorithm);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key.expect("private key PEM")).expect("sign")
}

/// Signs with the key of a `create_key` credentials object, its kid in the header.
pub fn sign_with(credentials: &Value, alg: &str, claims: &Value) -> String {
    sign_assertion(
        credentials["private_key"].as_str().unwrap(),
        alg,
        credentials["kid"].as_str(),
        claims,
    )
}

/// Prints a line the test harness does not capture (it captures `eprintln!`), so a skipped test
/// says so in the output.
pub fn tell(line: &str) {
    use std::io::Write;
    if let Ok(mut stderr) = std::fs::OpenOptions::new().write(true).open("/dev/stderr") {
        let _ = writeln!(stderr, "{line}");
    }
}

/// Serves `router` (a resource server, a fake endpoint) on a free port of this test's runtime;
/// returns its base URL.
pub async fn serve_router(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}
