//! The resource-server side: tessera-verify (through the example resource server) and
//! `tessera token verify`, against the real server.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;
use tessera_verify::Verifier;

use crate::support::{TestServer, eventually, jwt_parts, serve_router};

#[allow(dead_code)]
#[path = "../../../tessera-verify/examples/resource_server.rs"]
mod resource_server;

/// The example resource server, verifying tokens of realm `prod` for audience `account`.
async fn resource_server(
    server: &TestServer,
    configure: impl FnOnce(tessera_verify::VerifierBuilder) -> tessera_verify::VerifierBuilder,
) -> String {
    let builder = Verifier::builder()
        .issuer(server.issuer("prod"))
        .audience("account");
    let verifier = configure(builder).build().await.unwrap();
    serve_router(resource_server::app(verifier)).await
}

async fn token_with(server: &TestServer, secret: &str, scope: &str) -> String {
    let form = [("grant_type", "client_credentials"), ("scope", scope)];
    let body: Value = server
        .token_basic("prod", "svc", secret, &form)
        .await
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// GETs `path` with the token; returns status, WWW-Authenticate and body.
async fn call(url: &str, path: &str, token: Option<&str>) -> (u16, Option<String>, String) {
    let mut request = reqwest::Client::new().get(format!("{url}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        response.status().as_u16(),
        challenge,
        response.text().await.unwrap(),
    )
}

#[tokio::test]
async fn the_example_resource_server_accepts_good_tokens_and_refuses_bad_ones() {
    let server = TestServer::start();
    let secret = server
        .realm_with_client("prod", &["--scope", "orders:read"])
        .await;
    let rs = resource_server(&server, |b| b).await;
    let good = token_with(&server, &secret, "orders:read").await;

    let (status, _, body) = call(&rs, "/orders", Some(&good)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""for":"svc""#));

    // No token: 401 with a bare challenge.
    let (status, challenge, _) = call(&rs, "/whoami", None).await;
    assert_eq!((status, challenge.as_deref()), (401, Some("Bearer")));

    // Tampered payload.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut claims = jwt_parts(&good).1;
    claims["scope"] = "orders:read orders:write".into();
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    let (status, challenge, _) = call(&rs, "/whoami", Some(&parts.join("."))).await;
    assert_eq!(status, 401);
    assert!(
        challenge
            .unwrap()
            .starts_with(r#"Bearer error="invalid_token""#)
    );

    // Expired: minted by a server whose clock is an hour behind.
    server.clock.advance(-3600);
    let expired = token_with(&server, &secret, "orders:read").await;
    server.clock.advance(3600);
    let (status, challenge, _) = call(&rs, "/whoami", Some(&expired)).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("the token has expired"));

    // Missing scope: 403 naming it.
    let no_scope = token_with(&server, &secret, "").await;
    let (status, challenge, _) = call(&rs, "/orders", Some(&no_scope)).await;
    assert_eq!(status, 403);
    let challenge = challenge.unwrap();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#)
            && challenge.contains(r#"scope="orders:read""#),
        "{challenge}"
    );
    assert_eq!(call(&rs, "/whoami", Some(&no_scope)).await.0, 200);

    // Wrong audience and wrong issuer, with the same keys.
    let other_audience = resource_server(&server, |_| {
        Verifier::builder()
            .issuer(server.issuer("prod"))
            .audience("orders-api")
    })
    .await;
    let (status, challenge, _) = call(&other_audience, "/whoami", Some(&good)).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("not meant for this audience"));
    let certs = format!("{}/protocol/openid-connect/certs", server.issuer("prod"));
    let other_issuer = resource_server(&server, |_| {
        Verifier::builder()
            .jwks_url(certs)
            .issuer("https://elsewhere.example/realms/prod")
            .audience("account")
    })
    .await;
    let (status, challenge, _) = call(&other_issuer, "/whoami", Some(&good)).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("another issuer"));
}

#[tokio::test]
async fn online_mode_refuses_a_revoked_token() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let rs_secret = server.create_client("prod", "rs", &[]);
    server.wait_for_client("prod", "rs", &rs_secret).await;
    let rs = resource_server(&server, |b| {
        b.introspection("rs", rs_secret.clone().into(), Duration::ZERO)
    })
    .await;
    let good = token_with(&server, &secret, "").await;
    assert_eq!(call(&rs, "/whoami", Some(&good)).await.0, 200);

    let revoked = server.revoke("svc", &secret, &good).await;
    assert_eq!(revoked.status(), 200);
    let (status, challenge, _) = call(&rs, "/whoami", Some(&good)).await;
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("not active"));
}

#[tokio::test]
async fn a_new_signing_key_is_picked_up_without_a_restart() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let rs = resource_server(&server, |b| b).await;
    assert_eq!(
        call(
            &rs,
            "/whoami",
            Some(&token_with(&server, &secret, "").await)
        )
        .await
        .0,
        200
    );

    let old_kid = jwt_parts(&token_with(&server, &secret, "").await).0["kid"].clone();
    server.cli(&["realm", "rotate-key", "prod"]).success();
    let new_token = eventually(|| async {
        let token = token_with(&server, &secret, "").await;
        (jwt_parts(&token).0["kid"] != old_kid).then_some(token)
    })
    .await
    .expect("rotation in effect");
    assert_eq!(call(&rs, "/whoami", Some(&new_token)).await.0, 200);
}

#[tokio::test]
async fn made_up_key_ids_cause_at_most_one_jwks_fetch_per_cooldown() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    // A JWKS endpoint that counts its fetches, in front of the realm's.
    let fetches = Arc::new(AtomicUsize::new(0));
    let certs = format!("{}/protocol/openid-connect/certs", server.issuer("prod"));
    let counter = Arc::clone(&fetches);
    let jwks = serve_router(axum::Router::new().route(
        "/jwks",
        axum::routing::get(move || {
            let (counter, certs) = (Arc::clone(&counter), certs.clone());
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                reqwest::get(certs).await.unwrap().text().await.unwrap()
            }
        }),
    ))
    .await;
    let issuer = server.issuer("prod");
    let rs = resource_server(&server, |_| {
        Verifier::builder()
            .jwks_url(format!("{jwks}/jwks"))
            .issuer(issuer)
            .audience("account")
            .jwks_cooldown(Duration::from_secs(60))
    })
    .await;
    assert_eq!(fetches.load(Ordering::SeqCst), 1, "one fetch at start");

    let good = token_with(&server, &secret, "").await;
    let (_, payload_and_signature) = good.split_once('.').unwrap();
    let mut refused = 0;
    for n in 0..100 {
        let header = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"alg":"RS256","typ":"JWT","kid":"made-up-{n}"}}"#
        ));
        let (status, _, _) = call(
            &rs,
            "/whoami",
            Some(&format!("{header}.{payload_and_signature}")),
        )
        .await;
        refused += usize::from(status == 401);
    }
    assert_eq!(refused, 100);
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        2,
        "one refetch for the first unknown kid, then none"
    );
    // The real key still works from the cache.
    assert_eq!(call(&rs, "/whoami", Some(&good)).await.0, 200);
}

#[tokio::test]
async fn tessera_token_verify_prints_claims_or_the_reason() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let token = server.wait_for_client("prod", "svc", &secret).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let issuer = server.issuer("prod");
    let output = server
        .cli(&["token", "verify", "--issuer", &issuer, &token])
        .success();
    let claims: Value = serde_json::from_str(&output.stdout()).unwrap();
    assert_eq!(claims["azp"], "svc");
    let from_stdin = server
        .cli_with_stdin(
            &[
                "token",
                "verify",
                "--issuer",
                &issuer,
                "--audience",
                "account",
                "-",
            ],
            &token,
        )
        .success();
    assert!(from_stdin.stdout().contains(r#""azp": "svc""#));

    // A different signature (flip one character in its middle).
    let at = token.len() - 20;
    let flipped = if &token[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{flipped}{}", &token[..at], &token[at + 1..]);
    let output = server
        .cli(&["token", "verify", "--issuer", &issuer, &tampered])
        .failure();
    assert!(
        output.stderr().contains("invalid token"),
        "{}",
        output.stderr()
    );
    let output = server
        .cli(&[
            "token",
            "verify",
            "--issuer",
            &issuer,
            "--audience",
            "orders",
            &token,
        ])
        .failure();
    assert!(
        output.stderr().contains("not meant for this audience"),
        "{}",
        output.stderr()
    );
    let certs = format!("{issuer}/protocol/openid-connect/certs");
    server
        .cli(&["token", "verify", "--jwks", &certs, &token])
        .success();
}
