//! Discovery and JWKS: what a resource server or client library reads before anything else.

use serde_json::Value;

use crate::support::{TestServer, jwt_parts};

async fn get_json(server: &TestServer, url: &str) -> (u16, Value) {
    let response = server.http.get(url).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn discovery_issuer_matches_the_tokens_and_endpoints_are_absolute() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let issuer = server.issuer("prod");
    let (status, doc) = get_json(
        &server,
        &format!("{issuer}/.well-known/openid-configuration"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(doc["issuer"], issuer);
    assert_eq!(
        doc["token_endpoint"],
        format!("{issuer}/protocol/openid-connect/token")
    );
    assert_eq!(
        doc["jwks_uri"],
        format!("{issuer}/protocol/openid-connect/certs")
    );
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!([
            "client_credentials",
            "urn:ietf:params:oauth:grant-type:jwt-bearer"
        ])
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    assert_eq!(
        doc["token_endpoint_auth_signing_alg_values_supported"],
        serde_json::json!(["RS256", "ES256", "EdDSA"])
    );

    let token = server.wait_for_client("prod", "svc", &secret).await;
    let (_, claims) = jwt_parts(token["access_token"].as_str().unwrap());
    assert_eq!(claims["iss"], doc["issuer"]);
    // The advertised token endpoint is the one that works.
    let response = server
        .http
        .post(doc["token_endpoint"].as_str().unwrap())
        .basic_auth("svc", Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn jwks_publishes_only_public_key_material_for_each_algorithm() {
    let server = TestServer::start();
    let expectations = [
        ("rs", "RS256", "RSA", &["n", "e"][..]),
        ("es", "ES256", "EC", &["crv", "x", "y"][..]),
        ("ed", "EdDSA", "OKP", &["crv", "x"][..]),
    ];
    for (realm, alg, kty, members) in expectations {
        server.create_realm(realm, &["--signing-alg", alg]).await;
        let response = server
            .http
            .get(format!(
                "{}/protocol/openid-connect/certs",
                server.issuer(realm)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        let jwks: Value = response.json().await.unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1);
        let key = &keys[0];
        assert_eq!(key["kty"], kty);
        assert_eq!(key["alg"], alg);
        assert_eq!(key["use"], "sig");
        assert!(!key["kid"].as_str().unwrap().is_empty());
        for member in members {
            assert!(key[member].is_string(), "{member} in {key}");
        }
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(
                key.get(private).is_none(),
                "private member {private} published"
            );
        }
    }
}

#[tokio::test]
async fn the_public_url_names_the_issuer_including_a_path() {
    let server = TestServer::start_with_public_url(Some("https://auth.example.com/auth/"));
    let secret = server.realm_with_client("prod", &[]).await;
    let (_, doc) = get_json(
        &server,
        &format!(
            "{}/realms/prod/.well-known/openid-configuration",
            server.url
        ),
    )
    .await;
    assert_eq!(doc["issuer"], "https://auth.example.com/auth/realms/prod");
    assert_eq!(
        doc["token_endpoint"],
        "https://auth.example.com/auth/realms/prod/protocol/openid-connect/token"
    );
    let token = server.wait_for_client("prod", "svc", &secret).await;
    let (_, claims) = jwt_parts(token["access_token"].as_str().unwrap());
    assert_eq!(claims["iss"], "https://auth.example.com/auth/realms/prod");
}

#[tokio::test]
async fn unknown_realms_have_no_discovery_or_keys() {
    let server = TestServer::start();
    for path in [
        ".well-known/openid-configuration",
        "protocol/openid-connect/certs",
    ] {
        let (status, body) = get_json(&server, &format!("{}/realms/nope/{path}", server.url)).await;
        assert_eq!(status, 404);
        assert_eq!(body["error"], "not_found");
    }
}

#[tokio::test]
async fn the_realm_summary_carries_the_active_public_key() {
    // python-keycloak's public_key() reads this.
    let server = TestServer::start();
    server.create_realm("prod", &[]).await;
    let (status, body) = get_json(&server, &server.issuer("prod")).await;
    assert_eq!(status, 200);
    assert_eq!(body["realm"], "prod");
    assert_eq!(
        body["token-service"],
        format!("{}/protocol/openid-connect", server.issuer("prod"))
    );
    let pem = format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        body["public_key"].as_str().unwrap()
    );
    // The key verifies the realm's tokens.
    let secret = server.create_client("prod", "svc", &[]);
    let token = server.wait_for_client("prod", "svc", &secret).await;
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["account"]);
    jsonwebtoken::decode::<Value>(token["access_token"].as_str().unwrap(), &key, &validation)
        .unwrap();
}
