//! The Frontier-compatible token API, both generations, as Frontier clients call it.

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::{Value, json};

use crate::support::{
    Setup, TestServer, assertion_claims, create_key, eventually, jwt_parts, new_jti, now,
    sign_with, verify_token,
};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn gateway(server: &TestServer) -> String {
    format!("{}/v1beta1/auth/token", server.url)
}

fn connect(server: &TestServer) -> String {
    format!(
        "{}/raystack.frontier.v1beta1.FrontierService/AuthToken",
        server.url
    )
}

/// POSTs `body` as JSON (with `content_type`, if any) and an optional Authorization header.
async fn call(
    server: &TestServer,
    url: &str,
    authorization: Option<String>,
    content_type: Option<&str>,
    body: String,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut request = server.http.post(url).body(body);
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    if let Some(value) = content_type {
        request = request.header("content-type", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// A Frontier-made assertion: kid in header and claims, its own iss, no aud, no jti.
fn frontier_assertion(key: &Value, alg: &str) -> String {
    let claims = json!({
        "iss": "//frontier-go-sdk",
        "sub": key["principal_id"],
        "kid": key["kid"],
        "iat": now(),
        "exp": now() + 60,
    });
    sign_with(key, alg, &claims)
}

#[tokio::test]
async fn client_credentials_in_a_json_body_or_basic() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let body =
        json!({"grant_type": "client_credentials", "client_id": "svc", "client_secret": secret});
    let (status, headers, token) = call(
        &server,
        &gateway(&server),
        None,
        Some("application/json"),
        body.to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 300);
    let claims = verify_token(
        &server.http,
        &server.issuer("prod"),
        "account",
        token["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(claims["azp"], "svc");

    // camelCase names and no Content-Type at all: still JSON.
    let camel =
        json!({"grantType": "client_credentials", "clientId": "svc", "clientSecret": secret});
    let (status, _, _) = call(&server, &gateway(&server), None, None, camel.to_string()).await;
    assert_eq!(status, 200);

    // Frontier's documented curl: Basic and a form body, or Basic with an empty body.
    let (status, _, _) = call(
        &server,
        &gateway(&server),
        Some(basic("svc", &secret)),
        Some("application/x-www-form-urlencoded"),
        "grant_type=client_credentials".into(),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = call(
        &server,
        &gateway(&server),
        Some(basic("svc", &secret)),
        None,
        String::new(),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn imported_frontier_secrets_work_in_raw_basic() {
    // Frontier secrets are standard base64 (with + and /), sent in Basic without encoding.
    let server = TestServer::start();
    server.create_realm("prod", &[]).await;
    let credential_id = "3f6c1e9a-8b2d-4c1f-9e7a-2b5d8c4f1a90";
    let secret = "q+9Zt/4kLx2Vb8Nf+0Wc3Hy7Rj5Pd1Ms6Ua2Ge9Tk4E";
    server
        .cli_with_stdin(
            &[
                "client",
                "create",
                "--realm",
                "prod",
                credential_id,
                "--secret-stdin",
            ],
            secret,
        )
        .success();
    let answered = eventually(|| async {
        let body = json!({"grant_type": "client_credentials"}).to_string();
        let (status, _, token) = call(
            &server,
            &gateway(&server),
            Some(basic(credential_id, secret)),
            None,
            body,
        )
        .await;
        (status == 200).then_some(token)
    })
    .await;
    assert!(answered.is_some(), "raw Basic with + and / accepted");
}

#[tokio::test]
async fn frontier_made_assertions_are_accepted_in_the_body_or_as_bearer() {
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    for alg in ["RS256", "ES256", "EdDSA"] {
        let key = create_key(&server, "prod", "svc", alg);
        assert_eq!(
            key["type"],
            match alg {
                "RS256" => "sv_rsa",
                "ES256" => "sv_ec",
                _ => "sv_ed25519",
            }
        );
        let token = eventually(|| async {
            let body =
                json!({"grant_type": JWT_BEARER, "assertion": frontier_assertion(&key, alg)});
            let (status, _, token) =
                call(&server, &gateway(&server), None, None, body.to_string()).await;
            (status == 200).then_some(token)
        })
        .await
        .expect("Frontier assertion accepted");
        let claims = verify_token(
            &server.http,
            &server.issuer("prod"),
            "account",
            token["access_token"].as_str().unwrap(),
        )
        .await;
        assert_eq!(claims["azp"], "svc");

        // As a Bearer header, Frontier requires a jti (used once) and an exp.
        let mut claims = jwt_parts(&frontier_assertion(&key, alg)).1;
        claims["jti"] = new_jti().into();
        let bearer = format!("Bearer {}", sign_with(&key, alg, &claims));
        let (status, _, _) = call(
            &server,
            &gateway(&server),
            Some(bearer.clone()),
            None,
            "{}".into(),
        )
        .await;
        assert_eq!(status, 200);
        let (status, _, _) =
            call(&server, &gateway(&server), Some(bearer), None, "{}".into()).await;
        assert_eq!(status, 401, "replayed");
        let no_jti = format!("Bearer {}", frontier_assertion(&key, alg));
        let (status, _, _) =
            call(&server, &gateway(&server), Some(no_jti), None, "{}".into()).await;
        assert_eq!(status, 401);
    }
}

#[tokio::test]
async fn lenient_rules_still_require_a_near_exp_and_a_fresh_jti() {
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    let key = create_key(&server, "prod", "svc", "RS256");
    let send = |assertion: String| {
        let body = json!({"grant_type": JWT_BEARER, "assertion": assertion}).to_string();
        let server = &server;
        async move { call(server, &gateway(server), None, None, body).await }
    };
    eventually(|| async { (send(frontier_assertion(&key, "RS256")).await.0 == 200).then_some(()) })
        .await
        .expect("key known");

    let base = json!({"sub": "svc", "kid": key["kid"], "iat": now()});
    let with = |extra: Value| {
        let mut claims = base.clone();
        claims
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        sign_with(&key, "RS256", &claims)
    };
    for (case, assertion, reason) in [
        ("no exp", with(json!({})), "assertion has no exp"),
        (
            "aud of another server",
            with(json!({"exp": now() + 60, "aud": "https://elsewhere.example/token"})),
            "assertion aud does not name this server",
        ),
        (
            "expired",
            with(json!({"exp": now() - 120})),
            "assertion has expired",
        ),
        (
            "exp too far ahead",
            with(json!({"exp": now() + 7200})),
            "assertion exp is more than 600 seconds ahead",
        ),
    ] {
        let (status, headers, body) = send(assertion).await;
        assert_eq!(status, 401, "{case}");
        assert_eq!(headers["www-authenticate"], "not authenticated");
        assert_eq!(body["code"], 16);
        assert_eq!(body["message"], "not authenticated");
        assert_eq!(body["details"][0]["reason"], "INVALID_GRANT");
        assert_eq!(
            body["details"][0]["metadata"]["description"], reason,
            "{case}"
        );
    }
    let jti = new_jti();
    let once = with(json!({"exp": now() + 60, "jti": jti}));
    assert_eq!(send(once.clone()).await.0, 200);
    let (status, _, body) = send(once).await;
    assert_eq!(status, 401);
    assert_eq!(
        body["details"][0]["metadata"]["description"],
        "assertion jti was already used"
    );
}

#[tokio::test]
async fn a_strict_realm_holds_frontier_assertions_to_rfc_7523() {
    let server = TestServer::start();
    server.realm_with_client("prod", &[]).await;
    let key = create_key(&server, "prod", "svc", "RS256");
    server
        .cli(&["realm", "update", "prod", "--strict-assertions", "true"])
        .success();
    let refused = eventually(|| async {
        let body =
            json!({"grant_type": JWT_BEARER, "assertion": frontier_assertion(&key, "RS256")});
        let (status, _, body) =
            call(&server, &gateway(&server), None, None, body.to_string()).await;
        (status == 401
            && body["details"][0]["metadata"]["description"]
                == "assertion iss and sub must both be the client id")
            .then_some(())
    })
    .await;
    assert!(
        refused.is_some(),
        "Frontier-made assertion refused in a strict realm"
    );
    let strict = sign_with(&key, "RS256", &assertion_claims("svc", &gateway(&server)));
    let body = json!({"grant_type": JWT_BEARER, "assertion": strict});
    let (status, _, _) = call(&server, &gateway(&server), None, None, body.to_string()).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn errors_have_frontiers_shape_and_statuses() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let url = gateway(&server);

    let (status, headers, body) = call(&server, &url, None, None, "{}".into()).await;
    assert_eq!(
        (status, &body["code"], &body["message"]),
        (401, &json!(16), &json!("not authenticated"))
    );
    assert_eq!(headers["www-authenticate"], "not authenticated");
    assert!(body["details"].is_array());

    let (status, _, body) = call(
        &server,
        &url,
        Some(basic("svc", "wrong")),
        None,
        "{}".into(),
    )
    .await;
    assert_eq!((status, &body["code"]), (401, &json!(16)));
    let (status, _, body) = call(
        &server,
        &url,
        Some(basic("nobody", &secret)),
        None,
        "{}".into(),
    )
    .await;
    assert_eq!((status, &body["code"]), (401, &json!(16)));

    let (status, _, body) = call(
        &server,
        &url,
        None,
        Some("application/json"),
        "{not json".into(),
    )
    .await;
    assert_eq!((status, &body["code"]), (400, &json!(3)));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid JSON body")
    );
    let (status, _, body) = call(&server, &url, None, None, r#"{"client_id": 7}"#.into()).await;
    assert_eq!((status, &body["code"]), (400, &json!(3)));

    let body = json!({"grant_type": "client_credentials", "client_id": "svc", "client_secret": secret, "scope": "admin"});
    let (status, _, body) = call(&server, &url, None, None, body.to_string()).await;
    assert_eq!((status, &body["code"]), (400, &json!(3)));
    assert_eq!(body["message"], "Invalid scopes: admin");

    let limited = server.create_client("prod", "keys-only", &["--grant-type", "jwt-bearer"]);
    let forbidden = eventually(|| async {
        let body = json!({"grant_type": "client_credentials", "client_id": "keys-only", "client_secret": limited});
        let (status, _, body) = call(&server, &url, None, None, body.to_string()).await;
        (status == 403).then_some(body)
    })
    .await
    .expect("403 for a client without the grant");
    assert_eq!(
        (&forbidden["code"], &forbidden["message"]),
        (&json!(7), &json!("not authorized"))
    );

    let (status, _, _) = call(
        &server,
        &url,
        None,
        None,
        format!(r#"{{"pad":"{}"}}"#, "a".repeat(100_000)),
    )
    .await;
    assert_eq!(status, 413);
    let response = server.http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 405);
}

#[tokio::test]
async fn without_a_frontier_realm_the_api_says_how_to_enable_it() {
    let server = TestServer::start_with(Setup {
        frontier_realm: None,
        ..Setup::default()
    });
    server.realm_with_client("prod", &[]).await;
    let (status, _, body) = call(&server, &gateway(&server), None, None, "{}".into()).await;
    assert_eq!((status, &body["code"]), (404, &json!(5)));
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("--frontier-realm")
    );
    let response = server
        .http
        .get(format!("{}/.well-known/jwks.json", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn the_connect_generation_speaks_connect() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    let body =
        json!({"grant_type": "client_credentials", "client_id": "svc", "client_secret": secret});
    let (status, _, token) = call(
        &server,
        &connect(&server),
        None,
        Some("application/json"),
        body.to_string(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(token["token_type"], "Bearer");
    assert!(token["access_token"].is_string());
    // Only the proto's fields: strict Connect decoders reject unknown ones.
    assert_eq!(token.as_object().unwrap().len(), 2);

    let wrong =
        json!({"grant_type": "client_credentials", "client_id": "svc", "client_secret": "wrong"});
    let (status, headers, body) = call(
        &server,
        &connect(&server),
        None,
        Some("application/json"),
        wrong.to_string(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"code": "unauthenticated", "message": "not authenticated"})
    );
    assert!(headers.get("www-authenticate").is_none());
    let (status, _, body) = call(
        &server,
        &connect(&server),
        None,
        Some("application/proto"),
        String::new(),
    )
    .await;
    assert_eq!(status, 415);
    assert_eq!(body["code"], "invalid_argument");
}

#[tokio::test]
async fn the_realm_keys_are_at_frontiers_jwks_paths() {
    let server = TestServer::start();
    server.create_realm("prod", &[]).await;
    let certs: Value = server
        .http
        .get(format!(
            "{}/protocol/openid-connect/certs",
            server.issuer("prod")
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in ["/.well-known/jwks.json", "/v1beta1/auth/jwks"] {
        let jwks: Value = server
            .http
            .get(format!("{}{path}", server.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(jwks, certs, "{path}");
    }
}
