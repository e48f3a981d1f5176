//! Issuing client_credentials tokens: the response a client sees and the token a resource
//! server verifies.

use serde_json::Value;

use crate::support::{TestServer, jwt_parts, verify_token};

const CLIENT_CREDENTIALS: [(&str, &str); 1] = [("grant_type", "client_credentials")];

#[tokio::test]
async fn basic_auth_gets_a_keycloak_shaped_token_response() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;

    let response = server
        .token_basic("prod", "svc", &secret, &CLIENT_CREDENTIALS)
        .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].is_string());
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["refresh_expires_in"], 0);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["not-before-policy"], 0);
    assert_eq!(body["scope"], "");
    assert!(body.get("refresh_token").is_none());
    assert!(body.get("id_token").is_none());
}

#[tokio::test]
async fn the_token_verifies_against_the_jwks_and_carries_service_account_claims() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let body: Value = server
        .token_basic("prod", "svc", &secret, &CLIENT_CREDENTIALS)
        .await
        .json()
        .await
        .unwrap();
    let token = body["access_token"].as_str().unwrap();

    let (header, _) = jwt_parts(token);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");
    let issuer = server.issuer("prod");
    let claims = verify_token(&server.http, &issuer, "account", token).await;
    assert_eq!(claims["iss"], issuer);
    assert_eq!(claims["aud"], "account");
    assert_eq!(claims["typ"], "Bearer");
    assert_eq!(claims["azp"], "svc");
    assert_eq!(claims["client_id"], "svc");
    assert_eq!(claims["preferred_username"], "service-account-svc");
    assert_eq!(claims["clientAddress"], "127.0.0.1");
    assert_eq!(claims["clientHost"], "127.0.0.1");
    assert_eq!(claims["scope"], "");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
    assert!(!claims["jti"].as_str().unwrap().is_empty());
    // `sub` is the service account's stable id, not the client id.
    let sub = claims["sub"].as_str().unwrap();
    assert_ne!(sub, "svc");
    let again: Value = server
        .token_basic("prod", "svc", &secret, &CLIENT_CREDENTIALS)
        .await
        .json()
        .await
        .unwrap();
    let (_, again) = jwt_parts(again["access_token"].as_str().unwrap());
    assert_eq!(again["sub"], sub);
    assert_ne!(again["jti"], claims["jti"]);
}

#[tokio::test]
async fn es256_and_eddsa_realms_sign_with_their_algorithm() {
    let server = TestServer::start();
    for (realm, alg) in [("ec", "ES256"), ("ed", "EdDSA")] {
        server.create_realm(realm, &["--signing-alg", alg]).await;
        let secret = server.create_client(realm, "svc", &[]);
        let body = server.wait_for_client(realm, "svc", &secret).await;
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(jwt_parts(token).0["alg"], alg);
        let claims = verify_token(&server.http, &server.issuer(realm), "account", token).await;
        assert_eq!(claims["azp"], "svc");
    }
}

#[tokio::test]
async fn lifetime_is_the_clients_else_the_realms_else_300_seconds() {
    let server = TestServer::start();
    server
        .create_realm("short", &["--token-lifetime", "900"])
        .await;
    let realm_default = server.create_client("short", "realm-default", &[]);
    let own = server.create_client("short", "own", &["--token-lifetime", "86400"]);
    for (client, secret, lifetime) in [("realm-default", &realm_default, 900), ("own", &own, 86400)]
    {
        let body = server.wait_for_client("short", client, secret).await;
        assert_eq!(body["expires_in"], lifetime);
        let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            lifetime
        );
    }
}

#[tokio::test]
async fn configured_audiences_replace_the_default() {
    let server = TestServer::start();
    let secret = server
        .realm_with_client("prod", &["--audience", "orders", "--audience", "billing"])
        .await;
    let body = server.wait_for_client("prod", "svc", &secret).await;
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(
        jwt_parts(token).1["aud"],
        serde_json::json!(["orders", "billing"])
    );
    verify_token(&server.http, &server.issuer("prod"), "billing", token).await;
}
