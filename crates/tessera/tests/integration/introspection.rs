//! Introspection (RFC 7662), revocation (RFC 7009), revoking a client's tokens, and signing-key
//! rotation, as resource servers and operators see them.

use serde_json::{Value, json};

use crate::support::{TestServer, assertion_claims, create_key, eventually, jwt_parts, sign_with};

const CLIENT_CREDENTIALS: [(&str, &str); 1] = [("grant_type", "client_credentials")];

/// A server with realm `prod`, client `svc` (secret returned) and a resource server client `rs`.
async fn setup() -> (TestServer, String, String) {
    let server = TestServer::start();
    let secret = server
        .realm_with_client("prod", &["--scope", "orders:read"])
        .await;
    let rs_secret = server.create_client("prod", "rs", &[]);
    server.wait_for_client("prod", "rs", &rs_secret).await;
    (server, secret, rs_secret)
}

async fn token(server: &TestServer, realm: &str, id: &str, secret: &str) -> String {
    let body = server.wait_for_client(realm, id, secret).await;
    body["access_token"].as_str().unwrap().to_owned()
}

async fn introspect(server: &TestServer, rs_secret: &str, token: &str) -> Value {
    let response = server
        .http
        .post(format!(
            "{}/protocol/openid-connect/token/introspect",
            server.issuer("prod")
        ))
        .basic_auth("rs", Some(rs_secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    response.json().await.unwrap()
}

/// Waits until introspection of `token` says `active`.
async fn wait_active(server: &TestServer, rs_secret: &str, token: &str, active: bool) {
    let reached = eventually(|| async {
        (introspect(server, rs_secret, token).await["active"] == active).then_some(())
    })
    .await;
    assert!(reached.is_some(), "active={active} not reached within 1 s");
}

#[tokio::test]
async fn an_active_token_is_described_like_keycloak_does() {
    let (server, secret, rs_secret) = setup().await;
    let body = server
        .token_basic(
            "prod",
            "svc",
            &secret,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "orders:read"),
            ],
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let token = body["access_token"].as_str().unwrap();
    let answer = introspect(&server, &rs_secret, token).await;
    let (_, claims) = jwt_parts(token);
    assert_eq!(answer["active"], true);
    assert_eq!(answer["client_id"], "svc");
    assert_eq!(answer["username"], "service-account-svc");
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["scope"], "orders:read");
    for claim in ["exp", "iat", "jti", "iss", "aud", "sub", "azp", "typ"] {
        assert_eq!(answer[claim], claims[claim], "{claim}");
    }
}

#[tokio::test]
async fn inactive_tokens_answer_only_active_false() {
    let (server, secret, rs_secret) = setup().await;
    let inactive = json!({"active": false});

    // Malformed, tampered, and a token of another realm.
    assert_eq!(
        introspect(&server, &rs_secret, "not-a-token").await,
        inactive
    );
    let good = token(&server, "prod", "svc", &secret).await;
    let tampered = format!("{}x", &good[..good.len() - 1]);
    assert_eq!(introspect(&server, &rs_secret, &tampered).await, inactive);
    server.create_realm("other", &[]).await;
    let other_secret = server.create_client("other", "svc", &[]);
    let foreign = token(&server, "other", "svc", &other_secret).await;
    assert_eq!(introspect(&server, &rs_secret, &foreign).await, inactive);

    // Expired: the server's clock moves past exp.
    assert_eq!(introspect(&server, &rs_secret, &good).await["active"], true);
    server.clock.advance(301);
    assert_eq!(introspect(&server, &rs_secret, &good).await, inactive);
    server.clock.advance(-301);

    // Disabled, then deleted client.
    server
        .cli(&["client", "disable", "--realm", "prod", "svc"])
        .success();
    wait_active(&server, &rs_secret, &good, false).await;
    server
        .cli(&["client", "enable", "--realm", "prod", "svc"])
        .success();
    wait_active(&server, &rs_secret, &good, true).await;
    server
        .cli(&["client", "delete", "--realm", "prod", "svc"])
        .success();
    wait_active(&server, &rs_secret, &good, false).await;
}

#[tokio::test]
async fn introspection_needs_an_authenticated_client_and_a_token() {
    let (server, secret, rs_secret) = setup().await;
    let url = format!(
        "{}/protocol/openid-connect/token/introspect",
        server.issuer("prod")
    );
    let good = token(&server, "prod", "svc", &secret).await;
    let anonymous = server
        .http
        .post(&url)
        .form(&[("token", &good)])
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    let wrong = server
        .http
        .post(&url)
        .basic_auth("rs", Some("wrong"))
        .form(&[("token", &good)])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(wrong.headers()["www-authenticate"], "Basic realm=\"prod\"");
    let missing = server
        .http
        .post(&url)
        .basic_auth("rs", Some(&rs_secret))
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error_description"],
        "Token not provided."
    );

    // Any supported client authentication works, private_key_jwt included (python-keycloak
    // style client_secret_post is covered by the compat tests).
    let key = create_key(&server, "prod", "rs", "ES256");
    let answer = eventually(|| async {
        let assertion = sign_with(&key, "ES256", &assertion_claims("rs", &url));
        let response = server
            .http
            .post(&url)
            .form(&[
                ("token", good.as_str()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &assertion),
            ])
            .send()
            .await
            .ok()?;
        (response.status() == 200).then_some(response)
    })
    .await
    .expect("private_key_jwt accepted at introspection");
    assert_eq!(answer.json::<Value>().await.unwrap()["active"], true);
}

#[tokio::test]
async fn a_client_revokes_its_own_token() {
    let (server, secret, rs_secret) = setup().await;
    let good = token(&server, "prod", "svc", &secret).await;
    let other = token(&server, "prod", "svc", &secret).await;

    // Another client may not revoke it.
    let refused = server.revoke("rs", &rs_secret, &good).await;
    assert_eq!(refused.status(), 400);
    assert_eq!(
        refused.json::<Value>().await.unwrap()["error_description"],
        "Unmatching clients"
    );

    let response = server.revoke("svc", &secret, &good).await;
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.unwrap().is_empty());
    // At once on this server.
    assert_eq!(
        introspect(&server, &rs_secret, &good).await["active"],
        false
    );
    assert_eq!(
        introspect(&server, &rs_secret, &other).await["active"],
        true
    );

    // Unknown and malformed tokens are fine too (RFC 7009 2.2), a missing one is not.
    assert_eq!(server.revoke("svc", &secret, "garbage").await.status(), 200);
    assert_eq!(server.revoke("svc", &secret, &good).await.status(), 200);
    let missing = server
        .http
        .post(format!(
            "{}/protocol/openid-connect/revoke",
            server.issuer("prod")
        ))
        .basic_auth("svc", Some(&secret))
        .form(&[("token_type_hint", "access_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
    let unauthenticated = server.revoke("svc", "wrong", &other).await;
    assert_eq!(unauthenticated.status(), 401);
}

#[tokio::test]
async fn a_revocation_is_remembered_until_the_token_expires_then_forgotten() {
    let (server, secret, rs_secret) = setup().await;
    let good = token(&server, "prod", "svc", &secret).await;
    assert_eq!(server.revoke("svc", &secret, &good).await.status(), 200);
    let store = tessera::store::open(&server.database_url, Default::default())
        .await
        .unwrap();
    assert_eq!(store.load().await.unwrap().revoked_tokens.len(), 1);

    server.clock.advance(301);
    let forgotten = eventually(|| async {
        store
            .load()
            .await
            .ok()?
            .revoked_tokens
            .is_empty()
            .then_some(())
    })
    .await;
    assert!(forgotten.is_some(), "expired revocation purged");
    // And the expired token is of course still inactive.
    assert_eq!(
        introspect(&server, &rs_secret, &good).await["active"],
        false
    );
}

#[tokio::test]
async fn revoke_tokens_cuts_off_every_token_issued_so_far() {
    let (server, secret, rs_secret) = setup().await;
    let before = token(&server, "prod", "svc", &secret).await;
    server
        .cli(&["client", "revoke-tokens", "--realm", "prod", "svc"])
        .success();
    wait_active(&server, &rs_secret, &before, false).await;
    // A token issued right after is active.
    let after = server
        .token_basic("prod", "svc", &secret, &CLIENT_CREDENTIALS)
        .await
        .json::<Value>()
        .await
        .unwrap();
    let after = after["access_token"].as_str().unwrap();
    assert_eq!(introspect(&server, &rs_secret, after).await["active"], true);
}

#[tokio::test]
async fn a_rotated_key_stays_published_until_its_tokens_expire() {
    let (server, secret, rs_secret) = setup().await;
    let certs_url = format!("{}/protocol/openid-connect/certs", server.issuer("prod"));
    let kids = || async {
        let jwks: Value = server
            .http
            .get(&certs_url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let old_token = token(&server, "prod", "svc", &secret).await;
    let old_kid = jwt_parts(&old_token).0["kid"].as_str().unwrap().to_owned();
    assert_eq!(kids().await, std::slice::from_ref(&old_kid));

    let output = server
        .cli(&["realm", "rotate-key", "prod", "--signing-alg", "ES256"])
        .success()
        .stdout();
    assert!(output.contains("now signs with key"), "{output}");
    let new_token = eventually(|| async {
        let body: Value = server
            .token_basic("prod", "svc", &secret, &CLIENT_CREDENTIALS)
            .await
            .json()
            .await
            .ok()?;
        let token = body["access_token"].as_str()?.to_owned();
        (jwt_parts(&token).0["kid"] != old_kid.as_str()).then_some(token)
    })
    .await
    .expect("new key in use within 1 s");
    assert_eq!(jwt_parts(&new_token).0["alg"], "ES256");
    let published = kids().await;
    assert_eq!(published.len(), 2);
    assert!(published.contains(&old_kid));
    // Both tokens are good.
    assert_eq!(
        introspect(&server, &rs_secret, &old_token).await["active"],
        true
    );
    assert_eq!(
        introspect(&server, &rs_secret, &new_token).await["active"],
        true
    );

    // Once every token of the old key has expired (300 s + 60 s leeway), it leaves the JWKS.
    server.clock.advance(361);
    let gone = eventually(|| async { (kids().await.len() == 1).then_some(()) }).await;
    assert!(gone.is_some(), "old key withdrawn");
    assert!(!kids().await.contains(&old_kid));
}
