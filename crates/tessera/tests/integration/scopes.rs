//! Allowed scopes, prefix patterns and default scopes.

use serde_json::Value;

use crate::support::{TestServer, jwt_parts};

async fn request_scope(server: &TestServer, secret: &str, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(scope) = scope {
        form.push(("scope", scope));
    }
    let response = server.token_basic("prod", "svc", secret, &form).await;
    (response.status().as_u16(), response.json().await.unwrap())
}

fn token_scope(body: &Value) -> Value {
    jwt_parts(body["access_token"].as_str().unwrap()).1["scope"].clone()
}

#[tokio::test]
async fn scopes_are_granted_by_the_clients_rules() {
    let server = TestServer::start();
    let secret = server
        .realm_with_client(
            "prod",
            &[
                "--scope",
                "orders:write",
                "--scope",
                "tenant/*",
                "--default-scope",
                "orders:read",
            ],
        )
        .await;

    // Nothing requested: the defaults.
    let (status, body) = request_scope(&server, &secret, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["scope"], "orders:read");
    assert_eq!(token_scope(&body), "orders:read");

    // An allowed scope and a tenant scope matching the prefix pattern, on top of the defaults.
    let (status, body) = request_scope(&server, &secret, Some("tenant/3f2a9c orders:write")).await;
    assert_eq!(status, 200);
    assert_eq!(body["scope"], "orders:read tenant/3f2a9c orders:write");
    assert_eq!(token_scope(&body), "orders:read tenant/3f2a9c orders:write");
}

#[tokio::test]
async fn anything_not_allowed_is_invalid_scope() {
    let server = TestServer::start();
    let secret = server
        .realm_with_client("prod", &["--scope", "tenant/*"])
        .await;
    for requested in ["admin", "tenant/a admin", "tenant/", "tenants/a"] {
        let (status, body) = request_scope(&server, &secret, Some(requested)).await;
        assert_eq!(status, 400, "{requested}");
        assert_eq!(body["error"], "invalid_scope");
        assert_eq!(
            body["error_description"],
            format!("Invalid scopes: {requested}")
        );
    }
}

#[tokio::test]
async fn patterns_are_not_accepted_as_default_scopes() {
    let server = TestServer::start();
    server.create_realm("prod", &[]).await;
    let output = server
        .cli(&[
            "client",
            "create",
            "--realm",
            "prod",
            "svc",
            "--default-scope",
            "tenant/*",
        ])
        .failure();
    assert!(
        output.stderr().contains("must be a plain scope"),
        "{}",
        output.stderr()
    );
}
