//! tessera-client against the real server: caching, early refresh, single flight, outages,
//! typed errors, the middleware, and `tessera token get`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use secrecy::SecretString;
use serde_json::Value;
use tessera_client::{BearerAuth, Error, KeyGrant, KeySigner, RetryPolicy, TokenSource};

use crate::support::{TestServer, create_key, jwt_parts, serve_router};

const ISSUED: &str = "tessera_tokens_issued_total";

/// `n` callers asking `tokens` at the same moment; their outcomes.
async fn concurrent_tokens(
    tokens: &TokenSource,
    n: usize,
) -> Vec<Result<Arc<tessera_client::AccessToken>, Error>> {
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let callers: Vec<_> = (0..n)
        .map(|_| {
            let (tokens, barrier) = (tokens.clone(), Arc::clone(&barrier));
            tokio::spawn(async move {
                barrier.wait().await;
                tokens.token().await
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(n);
    for caller in callers {
        outcomes.push(caller.await.expect("caller"));
    }
    outcomes
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
    }
}

async fn source(server: &TestServer, secret: &str) -> TokenSource {
    TokenSource::builder("svc")
        .issuer(server.issuer("prod"))
        .client_secret(SecretString::from(secret))
        .retry(fast_retries())
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_cached_token_is_served_until_refresh_is_due() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let before = server.metric(ISSUED).await;
    let tokens = source(&server, &secret).await;
    let first = tokens.token().await.unwrap();
    let second = tokens.token().await.unwrap();
    assert_eq!(first.secret(), second.secret());
    assert_eq!(server.metric(ISSUED).await - before, 1);
    // The token is a real one.
    assert_eq!(jwt_parts(first.secret()).1["azp"], "svc");
}

#[tokio::test]
async fn a_short_lived_token_is_refreshed_before_it_expires() {
    let server = TestServer::start();
    let secret = server
        .realm_with_client("prod", &["--token-lifetime", "2"])
        .await;
    let tokens = source(&server, &secret).await;
    let first = tokens.token().await.unwrap();
    // Refresh is due at about half of a 2 s lifetime; it runs in the background while the
    // current token is still handed out.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut second = tokens.token().await.unwrap();
    while second.secret() == first.secret() && Instant::now() < first.expires_at {
        tokio::time::sleep(Duration::from_millis(20)).await;
        second = tokens.token().await.unwrap();
    }
    assert_ne!(
        first.secret(),
        second.secret(),
        "a new token before the old one expired"
    );
}

#[tokio::test]
async fn a_thousand_callers_at_expiry_cause_one_token_request() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let tokens = source(&server, &secret).await;
    let first = tokens.token().await.unwrap();
    let before = server.metric(ISSUED).await;
    tokens.invalidate(&first);
    let values: Vec<String> = concurrent_tokens(&tokens, 1000)
        .await
        .into_iter()
        .map(|outcome| outcome.unwrap().secret().to_owned())
        .collect();
    assert_eq!(
        server.metric(ISSUED).await - before,
        1,
        "exactly one token request"
    );
    assert!(values.iter().all(|v| *v == values[0]));
    assert_ne!(values[0], first.secret());
}

#[tokio::test]
async fn during_an_outage_the_valid_token_is_served_then_a_clear_error() {
    let mut server = TestServer::start();
    let secret = server
        .realm_with_client("prod", &["--token-lifetime", "2"])
        .await;
    let tokens = source(&server, &secret).await;
    let first = tokens.token().await.unwrap();
    server.stop();
    // Hold the port, refusing every connection, so no other test's server can take it.
    let refuser = std::net::TcpListener::bind(server.address).ok();
    std::thread::spawn(move || {
        if let Some(listener) = refuser {
            for stream in listener.incoming() {
                drop(stream);
            }
        }
    });

    // Refresh is due but the server is gone: the still-valid token is served.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let during = tokens.token().await.unwrap();
    assert_eq!(during.secret(), first.secret());

    // Once it has expired: a bounded number of attempts, then the error.
    tokio::time::sleep(first.expires_at.saturating_duration_since(Instant::now())).await;
    match tokens.token().await {
        Err(Error::Unavailable { attempts, last }) => {
            assert_eq!(attempts, 3);
            assert!(!last.is_empty());
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_client_and_invalid_scope_are_typed_and_not_retried() {
    let server = TestServer::start();
    server
        .realm_with_client("prod", &["--scope", "orders:read"])
        .await;
    let refused = "tessera_token_requests_refused_total{error=\"invalid_client\"}";
    let before = server.metric(refused).await;
    let wrong = source(&server, "not-the-secret").await;
    assert!(matches!(wrong.token().await, Err(Error::InvalidClient(_))));
    assert_eq!(server.metric(refused).await - before, 1, "one attempt only");

    let secret = server.create_client("prod", "other", &[]);
    server.wait_for_client("prod", "other", &secret).await;
    let scoped = TokenSource::builder("other")
        .issuer(server.issuer("prod"))
        .client_secret(SecretString::from(secret))
        .scope("orders:read")
        .build()
        .await
        .unwrap();
    let refused_scope = "tessera_token_requests_refused_total{error=\"invalid_scope\"}";
    let before = server.metric(refused_scope).await;
    assert!(matches!(scoped.token().await, Err(Error::InvalidScope(_))));
    assert_eq!(
        server.metric(refused_scope).await - before,
        1,
        "one attempt only"
    );

    // Many callers at once (of a new source) share the one refusal.
    let wrong = source(&server, "also-not-the-secret").await;
    let before = server.metric(refused).await;
    for outcome in concurrent_tokens(&wrong, 100).await {
        assert!(matches!(outcome, Err(Error::InvalidClient(_))));
    }
    assert_eq!(
        server.metric(refused).await - before,
        1,
        "one request for all callers"
    );
}

/// A token endpoint whose `n`-th answer (from 0) `answer` decides; returns its URL and the count
/// of requests so far.
async fn fake_token_endpoint(
    answer: impl Fn(usize) -> (u16, Option<&'static str>, Value, Duration) + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    use axum::response::IntoResponse;
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    let answer = Arc::new(answer);
    let app = axum::Router::new().route(
        "/token",
        axum::routing::post(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            let (status, retry_after, body, delay) = answer(n);
            async move {
                tokio::time::sleep(delay).await;
                let status = axum::http::StatusCode::from_u16(status).unwrap();
                let mut response = (status, axum::Json(body)).into_response();
                if let Some(seconds) = retry_after {
                    response
                        .headers_mut()
                        .insert("retry-after", seconds.parse().unwrap());
                }
                response
            }
        }),
    );
    (format!("{}/token", serve_router(app).await), requests)
}

fn token_body(value: &str, expires_in: u64) -> Value {
    serde_json::json!({"access_token": value, "token_type": "Bearer", "expires_in": expires_in})
}

async fn fake_source(url: &str, retry: RetryPolicy) -> TokenSource {
    TokenSource::builder("svc")
        .token_url(url)
        .client_secret(SecretString::from("secret"))
        .retry(retry)
        .build()
        .await
        .unwrap()
}

#[tokio::test]
async fn callers_that_give_up_do_not_cancel_the_refresh() {
    let (url, requests) = fake_token_endpoint(|_| {
        (
            200,
            None,
            token_body("slow", 60),
            Duration::from_millis(800),
        )
    })
    .await;
    let tokens = fake_source(&url, fast_retries()).await;
    let impatient: Vec<_> = (0..50)
        .map(|_| {
            let tokens = tokens.clone();
            tokio::spawn(async move {
                tokio::time::timeout(Duration::from_millis(300), tokens.token()).await
            })
        })
        .collect();
    for caller in impatient {
        assert!(caller.await.unwrap().is_err(), "timed out");
    }
    assert_eq!(tokens.token().await.unwrap().secret(), "slow");
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_valid_token_is_served_while_its_refresh_runs() {
    // The first token lives 2 s (refresh due after about 1 s); the refresh then takes 1.5 s.
    let (url, requests) = fake_token_endpoint(|n| match n {
        0 => (200, None, token_body("first", 2), Duration::ZERO),
        _ => (
            200,
            None,
            token_body("second", 60),
            Duration::from_millis(1500),
        ),
    })
    .await;
    let tokens = fake_source(&url, fast_retries()).await;
    assert_eq!(tokens.token().await.unwrap().secret(), "first");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let asked = Instant::now();
    assert_eq!(tokens.token().await.unwrap().secret(), "first");
    assert!(
        asked.elapsed() < Duration::from_millis(500),
        "not held up by the refresh"
    );
    let mut latest = tokens.token().await.unwrap();
    while latest.secret() == "first" {
        tokio::time::sleep(Duration::from_millis(50)).await;
        latest = tokens.token().await.unwrap();
    }
    assert_eq!(requests.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failing_server_gets_one_round_of_retries_for_all_callers() {
    let (url, requests) = fake_token_endpoint(|_| (503, None, Value::Null, Duration::ZERO)).await;
    let tokens = fake_source(&url, fast_retries()).await;
    for outcome in concurrent_tokens(&tokens, 100).await {
        assert!(matches!(
            outcome,
            Err(Error::Unavailable { attempts: 3, .. })
        ));
    }
    assert_eq!(
        requests.load(Ordering::SeqCst),
        3,
        "3 attempts in all, not per caller"
    );
}

#[tokio::test]
async fn a_retry_after_longer_than_the_policy_allows_ends_the_retries() {
    let (url, requests) =
        fake_token_endpoint(|_| (429, Some("30"), Value::Null, Duration::ZERO)).await;
    let tokens = fake_source(&url, fast_retries()).await;
    let started = Instant::now();
    assert!(matches!(
        tokens.token().await,
        Err(Error::Unavailable { attempts: 1, .. })
    ));
    assert_eq!(requests.load(Ordering::SeqCst), 1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no waiting for 30 s"
    );
    // Meanwhile, callers get the failure without new requests.
    assert!(tokens.token().await.is_err());
    assert_eq!(requests.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_absurd_lifetime_from_the_server_is_survived() {
    let (url, _) = fake_token_endpoint(|_| {
        let body = serde_json::json!({"access_token": "t", "token_type": "Bearer", "expires_in": u64::MAX});
        (200, None, body, Duration::ZERO)
    })
    .await;
    let tokens = fake_source(&url, fast_retries()).await;
    assert_eq!(tokens.token().await.unwrap().secret(), "t");
}

#[tokio::test]
async fn overload_answers_are_retried_as_retry_after_says() {
    // A token endpoint that answers 429 (Retry-After: 1), then 503, then a token.
    let attempts = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&attempts);
    let app = axum::Router::new().route(
        "/token",
        axum::routing::post(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                use axum::response::IntoResponse;
                match n {
                    0 => (axum::http::StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "").into_response(),
                    1 => axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
                    _ => axum::Json(serde_json::json!({"access_token": "abc", "token_type": "Bearer", "expires_in": 60})).into_response(),
                }
            }
        }),
    );
    let base = serve_router(app).await;
    let tokens = TokenSource::builder("svc")
        .token_url(format!("{base}/token"))
        .client_secret(SecretString::from("secret"))
        .retry(RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(10),
            max_delay: Duration::from_secs(5),
        })
        .build()
        .await
        .unwrap();
    let started = Instant::now();
    let token = tokens.token().await.unwrap();
    assert_eq!(token.secret(), "abc");
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited as Retry-After said"
    );
}

#[tokio::test]
async fn the_middleware_refreshes_once_on_a_401() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let rs_secret = server.create_client("prod", "rs", &[]);
    server.wait_for_client("prod", "rs", &rs_secret).await;
    // A resource server that asks the issuer about every token (online mode).
    let verifier = tessera_verify::Verifier::builder()
        .issuer(server.issuer("prod"))
        .audience("account")
        .introspection("rs", rs_secret.into(), Duration::ZERO)
        .build()
        .await
        .unwrap();
    let routes = axum::Router::new()
        .route(
            "/whoami",
            axum::routing::get(|claims: tessera_verify::Claims| async move {
                claims.client_id().unwrap_or_default().to_owned()
            }),
        )
        .layer(tessera_verify::VerifyLayer::new(verifier));
    let rs = format!("{}/whoami", serve_router(routes).await);

    let tokens = source(&server, &secret).await;
    let http = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(BearerAuth::new(tokens.clone()))
        .build();
    let response = http.get(&rs).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "svc");

    // The token is revoked behind the client's back: the next call gets a 401, refreshes, retries.
    let used = tokens.token().await.unwrap();
    let revoked = server.revoke("svc", &secret, used.secret()).await;
    assert_eq!(revoked.status(), 200);
    let before = server.metric(ISSUED).await;
    let response = http.get(&rs).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(server.metric(ISSUED).await - before, 1);
}

#[tokio::test]
async fn private_keys_and_frontier_style_requests_work() {
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    let key = create_key(&server, "prod", "svc", "ES256");
    let (signer, principal) = KeySigner::from_credentials_json(&key.to_string()).unwrap();
    assert_eq!(principal.as_deref(), Some("svc"));
    let tokens = TokenSource::builder("svc")
        .issuer(server.issuer("prod"))
        .private_key(signer)
        .build()
        .await
        .unwrap();
    let token = crate::support::eventually(|| async { tokens.token().await.ok() })
        .await
        .expect("private_key_jwt token");
    assert_eq!(jwt_parts(token.secret()).1["azp"], "svc");
    // A fresh assertion per request: a second token works too.
    tokens.invalidate(&token);
    tokens.token().await.unwrap();

    // Frontier's endpoint: JSON body, jwt-bearer grant, and no expires_in needed.
    let (signer, _) = KeySigner::from_credentials_json(&key.to_string()).unwrap();
    let frontier = TokenSource::builder("svc")
        .token_url(format!("{}/v1beta1/auth/token", server.url))
        .private_key(signer)
        .key_grant(KeyGrant::JwtBearer)
        .json_body()
        .build()
        .await
        .unwrap();
    let token = frontier.token().await.unwrap();
    assert!(token.expires_at > Instant::now() + Duration::from_secs(200));
}

#[tokio::test]
async fn tessera_token_get_prints_a_token_for_scripts() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let secret_file = server.dir().join("secret");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let issuer = server.issuer("prod");
    let output = server
        .cli(&[
            "token",
            "get",
            "--issuer",
            &issuer,
            "--client-id",
            "svc",
            "--client-secret-file",
            secret_file.to_str().unwrap(),
        ])
        .success();
    let token = output.stdout().trim().to_owned();
    assert_eq!(jwt_parts(&token).1["azp"], "svc");

    let decoded: Value = serde_json::from_str(
        &server
            .cli(&[
                "token",
                "get",
                "--issuer",
                &issuer,
                "--client-id",
                "svc",
                "--client-secret-file",
                secret_file.to_str().unwrap(),
                "--decode",
            ])
            .success()
            .stdout(),
    )
    .unwrap();
    assert_eq!(decoded["claims"]["azp"], "svc");
    assert_eq!(decoded["header"]["typ"], "JWT");

    let key = create_key(&server, "prod", "svc", "EdDSA");
    let key_file = server.dir().join("svc.json");
    std::fs::write(&key_file, key.to_string()).unwrap();
    let output = crate::support::eventually(|| async {
        let output = server.cli(&[
            "token",
            "get",
            "--issuer",
            &issuer,
            "--key-file",
            key_file.to_str().unwrap(),
        ]);
        output.0.status.success().then_some(output)
    })
    .await
    .expect("key file accepted");
    assert_eq!(jwt_parts(output.stdout().trim()).1["azp"], "svc");

    let refused = server
        .cli(&["token", "get", "--issuer", &issuer, "--client-id", "svc"])
        .failure();
    assert!(
        refused.stderr().contains("TESSERA_CLIENT_SECRET"),
        "{}",
        refused.stderr()
    );
    let wrong_file = server.dir().join("wrong");
    std::fs::write(&wrong_file, "nope").unwrap();
    let refused = server
        .cli(&[
            "token",
            "get",
            "--issuer",
            &issuer,
            "--client-id",
            "svc",
            "--client-secret-file",
            wrong_file.to_str().unwrap(),
        ])
        .failure();
    assert!(
        refused.stderr().contains("invalid_client"),
        "{}",
        refused.stderr()
    );
}
