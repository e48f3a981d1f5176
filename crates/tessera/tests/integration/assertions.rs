//! JWT assertions on the Keycloak endpoint: the jwt-bearer grant and private_key_jwt client
//! authentication, always under the strict RFC 7523 rules.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::support::{
    TestServer, assertion_claims, create_key, eventually, jwt_parts, now, sign_assertion,
    sign_with, verify_token,
};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A server with realm `prod`, clients `svc` and `other`, and an RS256 key for each.
async fn setup() -> (TestServer, Value, Value) {
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    server.create_client("prod", "other", &[]);
    let svc_key = create_key(&server, "prod", "svc", "RS256");
    let other_key = create_key(&server, "prod", "other", "RS256");
    (server, svc_key, other_key)
}

async fn grant(server: &TestServer, assertion: &str) -> reqwest::Response {
    server
        .http
        .post(server.token_url("prod"))
        .form(&[("grant_type", JWT_BEARER), ("assertion", assertion)])
        .send()
        .await
        .unwrap()
}

/// Retries while a just-created key may not have reached the server (up to 1 s).
async fn grant_when_ready(server: &TestServer, make: impl Fn() -> String) -> reqwest::Response {
    eventually(|| async {
        let response = grant(server, &make()).await;
        (response.status() == 200).then_some(response)
    })
    .await
    .expect("assertion accepted within 1 s")
}

async fn assert_refused(response: reqwest::Response, status: u16, error: &str, description: &str) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], error);
    assert_eq!(body["error_description"], description);
}

#[tokio::test]
async fn jwt_bearer_grant_with_cli_made_keys_of_each_algorithm() {
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    let audience = server.token_url("prod");
    for alg in ["RS256", "ES256", "EdDSA"] {
        let key = create_key(&server, "prod", "svc", alg);
        assert_eq!(key["principal_id"], "svc");
        assert!(
            key["private_key"]
                .as_str()
                .unwrap()
                .starts_with("-----BEGIN PRIVATE KEY-----")
        );
        let response = grant_when_ready(&server, || {
            sign_with(&key, alg, &assertion_claims("svc", &audience))
        })
        .await;
        let body: Value = response.json().await.unwrap();
        let token = body["access_token"].as_str().unwrap();
        let claims = verify_token(&server.http, &server.issuer("prod"), "account", token).await;
        assert_eq!(claims["azp"], "svc");
    }
}

#[tokio::test]
async fn private_key_jwt_authenticates_client_credentials() {
    let (server, key, _) = setup().await;
    let audience = server.issuer("prod");
    let response = eventually(|| async {
        let assertion = sign_with(&key, "RS256", &assertion_claims("svc", &audience));
        let response = server
            .http
            .post(server.token_url("prod"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", "svc"),
                ("client_assertion_type", CLIENT_ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ])
            .send()
            .await
            .unwrap();
        (response.status() == 200).then_some(response)
    })
    .await
    .expect("private_key_jwt accepted");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        jwt_parts(body["access_token"].as_str().unwrap()).1["azp"],
        "svc"
    );

    // A wrong assertion type and a client_id that is not the subject are invalid_client.
    let assertion = sign_with(&key, "RS256", &assertion_claims("svc", &audience));
    for (client_id, assertion_type, description) in [
        (
            "svc",
            "urn:wrong",
            "Parameter client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'",
        ),
        (
            "other",
            CLIENT_ASSERTION_TYPE,
            "client_id parameter does not match the assertion's sub",
        ),
    ] {
        let response = server
            .http
            .post(server.token_url("prod"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_assertion_type", assertion_type),
                ("client_assertion", &assertion),
            ])
            .send()
            .await
            .unwrap();
        assert_refused(response, 401, "invalid_client", description).await;
    }
}

#[tokio::test]
async fn a_client_with_two_keys_works_with_either() {
    let (server, first, _) = setup().await;
    let second = create_key(&server, "prod", "svc", "ES256");
    let audience = server.token_url("prod");
    grant_when_ready(&server, || {
        sign_with(&first, "RS256", &assertion_claims("svc", &audience))
    })
    .await;
    grant_when_ready(&server, || {
        sign_with(&second, "ES256", &assertion_claims("svc", &audience))
    })
    .await;
    let list = server
        .cli(&[
            "client", "key", "list", "--realm", "prod", "svc", "--output", "json",
        ])
        .success()
        .json();
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn imported_public_keys_work_as_pem_and_as_jwk() {
    use aws_lc_rs::{
        encoding::{AsDer, PublicKeyX509Der},
        signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair},
    };
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    let audience = server.token_url("prod");
    // The user makes a P-256 key pair with their own tools.
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let private_pem =
        tessera::keys::pem::encode("PRIVATE KEY", pair.to_pkcs8v1().unwrap().as_ref());
    let spki = AsDer::<PublicKeyX509Der>::as_der(pair.public_key()).unwrap();
    let public_pem = tessera::keys::pem::encode("PUBLIC KEY", spki.as_ref());
    let point = pair.public_key().as_ref();
    let jwk = json!({
        "kty": "EC", "crv": "P-256", "kid": "my-jwk-key", "alg": "ES256",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..]),
    });
    let pem_file = server.dir().join("key.pem");
    let jwk_file = server.dir().join("key.jwk");
    std::fs::write(&pem_file, public_pem).unwrap();
    std::fs::write(&jwk_file, jwk.to_string()).unwrap();
    let add = |file: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "client",
            "key",
            "add",
            "--realm",
            "prod",
            "svc",
            "--public-key",
            file.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        server.cli(&args).success().stdout()
    };
    assert!(add(&pem_file, &["--kid", "my-pem-key"]).contains("Added key my-pem-key (ES256)"));
    assert!(add(&jwk_file, &[]).contains("Added key my-jwk-key (ES256)"));
    for kid in ["my-pem-key", "my-jwk-key"] {
        grant_when_ready(&server, || {
            sign_assertion(
                &private_pem,
                "ES256",
                Some(kid),
                &assertion_claims("svc", &audience),
            )
        })
        .await;
    }
    // Private keys and unsupported keys are refused at registration.
    std::fs::write(&pem_file, &private_pem).unwrap();
    let refused = server
        .cli(&[
            "client",
            "key",
            "add",
            "--realm",
            "prod",
            "svc",
            "--public-key",
            pem_file.to_str().unwrap(),
        ])
        .failure();
    assert!(
        refused.stderr().contains("unusable public key"),
        "{}",
        refused.stderr()
    );
}

#[tokio::test]
async fn every_strict_rule_is_enforced_with_a_clear_reason() {
    let (server, key, other_key) = setup().await;
    let audience = server.token_url("prod");
    grant_when_ready(&server, || {
        sign_with(&key, "RS256", &assertion_claims("svc", &audience))
    })
    .await;
    grant_when_ready(&server, || {
        sign_with(&other_key, "RS256", &assertion_claims("other", &audience))
    })
    .await;

    let claims = |change: &dyn Fn(&mut Value)| {
        let mut claims = assertion_claims("svc", &audience);
        change(&mut claims);
        claims
    };
    let private = key["private_key"].as_str().unwrap();
    let unknown_kid = sign_assertion(private, "RS256", Some("no-such-kid"), &claims(&|_| {}));
    let foreign_key = sign_with(&other_key, "RS256", &claims(&|_| {}));
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": key["kid"]}).to_string()),
        URL_SAFE_NO_PAD.encode(claims(&|_| {}).to_string())
    );
    // HS256 keyed with the public key: the classic algorithm-confusion forgery.
    let public_pem = {
        let body: Value = server
            .http
            .get(server.issuer("prod"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["public_key"].as_str().unwrap().to_owned()
    };
    let hs256 = {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = key["kid"].as_str().map(str::to_owned);
        let secret = jsonwebtoken::EncodingKey::from_secret(public_pem.as_bytes());
        jsonwebtoken::encode(&header, &claims(&|_| {}), &secret).unwrap()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "unknown kid",
            unknown_kid,
            "assertion kid is not a registered key",
        ),
        (
            "key of another client",
            foreign_key,
            "assertion key is not registered to client svc",
        ),
        (
            "alg none",
            unsigned,
            "assertion rejected: unsigned JWTs (alg none) are not accepted",
        ),
        (
            "HS256 with the public key",
            hs256,
            "assertion rejected: signed with HS256, but the key is for RS256",
        ),
        (
            "wrong aud",
            sign_with(
                &key,
                "RS256",
                &claims(&|c| c["aud"] = json!("https://elsewhere.example/token")),
            ),
            "assertion aud does not name this server",
        ),
        (
            "no aud",
            sign_with(
                &key,
                "RS256",
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove("aud");
                }),
            ),
            "assertion aud does not name this server",
        ),
        (
            "expired",
            sign_with(&key, "RS256", &claims(&|c| c["exp"] = json!(now() - 120))),
            "assertion has expired",
        ),
        (
            "exp too far ahead",
            sign_with(&key, "RS256", &claims(&|c| c["exp"] = json!(now() + 3600))),
            "assertion exp is more than 600 seconds ahead",
        ),
        (
            "no exp",
            sign_with(
                &key,
                "RS256",
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
            ),
            "assertion has no exp",
        ),
        (
            "not yet valid",
            sign_with(&key, "RS256", &claims(&|c| c["nbf"] = json!(now() + 300))),
            "assertion is not valid yet (nbf)",
        ),
        (
            "missing jti",
            sign_with(
                &key,
                "RS256",
                &claims(&|c| {
                    c.as_object_mut().unwrap().remove("jti");
                }),
            ),
            "assertion has no jti",
        ),
        (
            "wrong sub",
            sign_with(&key, "RS256", &claims(&|c| c["sub"] = json!("other"))),
            "assertion iss and sub must both be the client id",
        ),
        (
            "sub of another client",
            sign_with(
                &key,
                "RS256",
                &claims(&|c| {
                    c["sub"] = json!("other");
                    c["iss"] = json!("other");
                }),
            ),
            "assertion key is not registered to client other",
        ),
    ];
    for (case, assertion, description) in cases {
        let response = grant(&server, &assertion).await;
        assert_eq!(response.status(), 400, "{case}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant", "{case}");
        assert_eq!(body["error_description"], description, "{case}");
        // The error never echoes the assertion.
        assert!(!body.to_string().contains(&assertion[..20]), "{case}");
    }

    // A tampered signature.
    let good = sign_with(&key, "RS256", &claims(&|_| {}));
    let (head, signature) = good.rsplit_once('.').unwrap();
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
    bytes[0] ^= 1;
    let tampered = format!("{head}.{}", URL_SAFE_NO_PAD.encode(bytes));
    assert_refused(
        grant(&server, &tampered).await,
        400,
        "invalid_grant",
        "assertion rejected: the signature does not verify",
    )
    .await;

    // Replay: the same assertion twice.
    let once = sign_with(&key, "RS256", &claims(&|_| {}));
    assert_eq!(grant(&server, &once).await.status(), 200);
    assert_refused(
        grant(&server, &once).await,
        400,
        "invalid_grant",
        "assertion jti was already used",
    )
    .await;
}

#[tokio::test]
async fn a_deleted_key_is_refused() {
    let (server, key, _) = setup().await;
    let audience = server.token_url("prod");
    grant_when_ready(&server, || {
        sign_with(&key, "RS256", &assertion_claims("svc", &audience))
    })
    .await;
    let kid = key["kid"].as_str().unwrap();
    server
        .cli(&["client", "key", "delete", "--realm", "prod", "svc", kid])
        .success();
    let refused = eventually(|| async {
        let response = grant(
            &server,
            &sign_with(&key, "RS256", &assertion_claims("svc", &audience)),
        )
        .await;
        (response.status() == 400).then_some(response)
    })
    .await
    .expect("refused within 1 s");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(
        body["error_description"],
        "assertion kid is not a registered key"
    );
}

#[tokio::test]
async fn jwt_bearer_needs_an_assertion_and_a_client_allowed_the_grant() {
    let (server, _, _) = setup().await;
    let response = server
        .http
        .post(server.token_url("prod"))
        .form(&[("grant_type", JWT_BEARER)])
        .send()
        .await
        .unwrap();
    assert_refused(
        response,
        400,
        "invalid_request",
        "Missing parameter: assertion",
    )
    .await;

    server.create_client(
        "prod",
        "secret-only",
        &["--grant-type", "client_credentials"],
    );
    let key = create_key(&server, "prod", "secret-only", "EdDSA");
    let audience = server.token_url("prod");
    let refused = eventually(|| async {
        let assertion = sign_with(&key, "EdDSA", &assertion_claims("secret-only", &audience));
        let response = grant(&server, &assertion).await;
        let status = response.status();
        let body: Value = response.json().await.ok()?;
        (body["error"] == "unauthorized_client").then_some((status, body))
    })
    .await
    .expect("unauthorized_client once the key is known");
    assert_eq!(refused.0, 400);
    assert_eq!(
        refused.1["error_description"],
        "Client is not allowed to use grant type urn:ietf:params:oauth:grant-type:jwt-bearer"
    );
}

#[tokio::test]
async fn a_bare_client_id_beside_a_jwt_bearer_grant_is_no_authentication() {
    // RFC 7523 makes client authentication optional for the grant; libraries often add client_id.
    let (server, key, _) = setup().await;
    let audience = server.token_url("prod");
    grant_when_ready(&server, || {
        sign_with(&key, "RS256", &assertion_claims("svc", &audience))
    })
    .await;
    let assertion = sign_with(&key, "RS256", &assertion_claims("svc", &audience));
    let response = server
        .http
        .post(server.token_url("prod"))
        .form(&[
            ("grant_type", JWT_BEARER),
            ("assertion", &assertion),
            ("client_id", "svc"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn only_the_frontier_realm_accepts_the_frontier_endpoint_as_audience() {
    // An assertion spent at the Frontier endpoint cannot be replayed in another realm.
    let (server, _, _) = setup().await;
    server.create_realm("staging", &[]).await;
    let secret = server.create_client("staging", "svc", &[]);
    server.wait_for_client("staging", "svc", &secret).await;
    let key = create_key(&server, "staging", "svc", "ES256");
    let frontier_url = format!("{}/v1beta1/auth/token", server.url);
    let staging_url = format!(
        "{}/realms/staging/protocol/openid-connect/token",
        server.url
    );
    let post = |assertion: String| {
        let (server, staging_url) = (&server, staging_url.clone());
        async move {
            server
                .http
                .post(staging_url)
                .form(&[
                    ("grant_type", JWT_BEARER),
                    ("assertion", assertion.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let ready = eventually(|| async {
        let response = post(sign_with(
            &key,
            "ES256",
            &assertion_claims("svc", &staging_url),
        ))
        .await;
        (response.status() == 200).then_some(())
    })
    .await;
    assert!(ready.is_some());
    let response = post(sign_with(
        &key,
        "ES256",
        &assertion_claims("svc", &frontier_url),
    ))
    .await;
    assert_refused(
        response,
        400,
        "invalid_grant",
        "assertion aud does not name this server",
    )
    .await;
}
