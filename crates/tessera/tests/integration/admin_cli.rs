//! The CLI manages realms and clients; a running server picks its changes up within 1 s.

use serde_json::Value;

use crate::support::{TestServer, eventually};

const CLIENT_CREDENTIALS: [(&str, &str); 1] = [("grant_type", "client_credentials")];

/// Waits until `svc` with `secret` gets the status `expected`.
async fn wait_for_status(server: &TestServer, secret: &str, expected: u16) {
    let reached = eventually(|| async {
        let response = server
            .token_basic("prod", "svc", secret, &CLIENT_CREDENTIALS)
            .await;
        (response.status() == expected).then_some(())
    })
    .await;
    assert!(
        reached.is_some(),
        "status {expected} not reached within 1 s"
    );
}

#[tokio::test]
async fn a_client_created_while_the_server_runs_becomes_usable() {
    let server = TestServer::start();
    server.create_realm("prod", &[]).await;
    let response = server
        .token_basic("prod", "svc", "whatever", &CLIENT_CREDENTIALS)
        .await;
    assert_eq!(response.status(), 401);
    let secret = server.create_client("prod", "svc", &[]);
    wait_for_status(&server, &secret, 200).await;
}

#[tokio::test]
async fn disable_enable_delete_and_rotate_take_effect_without_a_restart() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;

    server
        .cli(&["client", "disable", "--realm", "prod", "svc"])
        .success();
    wait_for_status(&server, &secret, 401).await;
    let list = server
        .cli(&["client", "list", "--realm", "prod", "--output", "json"])
        .success()
        .json();
    assert_eq!(list[0]["enabled"], false);

    server
        .cli(&["client", "enable", "--realm", "prod", "svc"])
        .success();
    wait_for_status(&server, &secret, 200).await;

    let rotated = server
        .cli(&[
            "client",
            "rotate-secret",
            "--realm",
            "prod",
            "svc",
            "--output",
            "json",
        ])
        .success()
        .json();
    let new_secret = rotated["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    wait_for_status(&server, new_secret, 200).await;
    wait_for_status(&server, &secret, 401).await;

    server
        .cli(&["client", "delete", "--realm", "prod", "svc"])
        .success();
    wait_for_status(&server, new_secret, 401).await;
    let output = server
        .cli(&["client", "delete", "--realm", "prod", "svc"])
        .failure();
    assert!(
        output.stderr().contains("client 'svc' not found"),
        "{}",
        output.stderr()
    );
}

#[tokio::test]
async fn create_prints_the_secret_once_and_stores_only_its_hash() {
    let server = TestServer::start();
    server.create_realm("prod", &[]).await;
    let text = server
        .cli(&["client", "create", "--realm", "prod", "svc"])
        .success()
        .stdout();
    let secret = text
        .lines()
        .find_map(|line| line.strip_prefix("client_secret: "))
        .expect("secret printed")
        .to_owned();
    assert!(secret.len() >= 43 && secret.chars().all(|c| c.is_ascii_alphanumeric()));

    let json = server
        .cli(&[
            "client", "create", "--realm", "prod", "other", "--output", "json",
        ])
        .success()
        .json();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["client_id", "client_secret"]);

    // Listing never shows secrets.
    let list = server
        .cli(&["client", "list", "--realm", "prod"])
        .success()
        .stdout();
    assert!(!list.contains(&secret));
    let list = server
        .cli(&["client", "list", "--realm", "prod", "--output", "json"])
        .success()
        .stdout();
    assert!(!list.contains(&secret));
    // Nowhere in the database (SQLite files with the WAL, or a PostgreSQL dump) is the secret.
    server.wait_for_client("prod", "svc", &secret).await;
    let database = server.database.as_ref().unwrap();
    assert!(!database.holds(secret.as_bytes()));
}

#[tokio::test]
async fn an_existing_secret_can_be_imported_but_not_a_short_one() {
    let server = TestServer::start();
    server.create_realm("prod", &[]).await;
    let output = server
        .cli_with_stdin(
            &[
                "client",
                "create",
                "--realm",
                "prod",
                "weak",
                "--secret-stdin",
            ],
            "short\n",
        )
        .failure();
    assert!(
        output.stderr().contains("at least 16 characters"),
        "{}",
        output.stderr()
    );

    let kept = "kc-deployed-secret-0123456789";
    let output = server
        .cli_with_stdin(
            &[
                "client",
                "create",
                "--realm",
                "prod",
                "svc",
                "--secret-stdin",
                "--output",
                "json",
            ],
            &format!("{kept}\n"),
        )
        .success();
    assert!(
        !output.stdout().contains(kept),
        "a supplied secret is not echoed"
    );
    assert_eq!(output.json(), serde_json::json!({"client_id": "svc"}));
    server.wait_for_client("prod", "svc", kept).await;
}

#[tokio::test]
async fn realms_are_created_listed_and_validated() {
    let server = TestServer::start();
    server
        .create_realm(
            "prod",
            &["--token-lifetime", "900", "--signing-alg", "ES256"],
        )
        .await;
    server.create_realm("staging", &[]).await;
    let list: Value = server
        .cli(&["realm", "list", "--output", "json"])
        .success()
        .json();
    assert_eq!(
        list,
        serde_json::json!([
            {"name": "prod", "signing_alg": "ES256", "token_lifetime": 900, "strict_assertions": false},
            {"name": "staging", "signing_alg": "RS256", "token_lifetime": null, "strict_assertions": false},
        ])
    );
    let text = server.cli(&["realm", "list"]).success().stdout();
    assert!(text.contains("prod") && text.contains("900s"));

    let duplicate = server.cli(&["realm", "create", "prod"]).failure();
    assert!(
        duplicate.stderr().contains("already exists"),
        "{}",
        duplicate.stderr()
    );
    let invalid = server.cli(&["realm", "create", "no/slashes"]).failure();
    assert!(
        invalid.stderr().contains("invalid realm name"),
        "{}",
        invalid.stderr()
    );
    let bad_alg = server
        .cli(&["realm", "create", "x", "--signing-alg", "HS256"])
        .failure();
    assert!(
        bad_alg.stderr().contains("RS256, ES256 or EdDSA"),
        "{}",
        bad_alg.stderr()
    );
    let no_realm = server
        .cli(&["client", "create", "--realm", "nope", "svc"])
        .failure();
    assert!(
        no_realm.stderr().contains("realm 'nope' does not exist"),
        "{}",
        no_realm.stderr()
    );
    let dup_client = {
        server.create_client("prod", "svc", &[]);
        server
            .cli(&["client", "create", "--realm", "prod", "svc"])
            .failure()
    };
    assert!(
        dup_client.stderr().contains("already exists"),
        "{}",
        dup_client.stderr()
    );
}

#[tokio::test]
async fn realm_settings_can_be_changed() {
    let server = TestServer::start();
    let secret = server.realm_with_client("prod", &[]).await;
    server
        .cli(&[
            "realm",
            "update",
            "prod",
            "--token-lifetime",
            "900",
            "--strict-assertions",
            "true",
        ])
        .success();
    let list = server
        .cli(&["realm", "list", "--output", "json"])
        .success()
        .json();
    assert_eq!(list[0]["token_lifetime"], 900);
    assert_eq!(list[0]["strict_assertions"], true);
    let lifetime = eventually(|| async {
        let body: Value = server
            .token_basic("prod", "svc", &secret, &CLIENT_CREDENTIALS)
            .await
            .json()
            .await
            .ok()?;
        (body["expires_in"] == 900).then_some(())
    })
    .await;
    assert!(
        lifetime.is_some(),
        "new realm lifetime in effect within 1 s"
    );
    let invalid = server
        .cli(&["realm", "update", "prod", "--token-lifetime", "0"])
        .failure();
    assert!(
        invalid.stderr().contains("token lifetime"),
        "{}",
        invalid.stderr()
    );
}

#[tokio::test]
async fn a_client_without_the_grant_is_unauthorized_client() {
    let server = TestServer::start();
    server.create_realm("prod", &[]).await;
    let secret = server.create_client("prod", "keys-only-grant", &["--grant-type", "jwt-bearer"]);
    let response = eventually(|| async {
        let response = server
            .token_basic("prod", "keys-only-grant", &secret, &CLIENT_CREDENTIALS)
            .await;
        (response.status() != 401).then_some(response)
    })
    .await
    .expect("client picked up");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client");
    assert_eq!(
        body["error_description"],
        "Client is not allowed to use grant type client_credentials"
    );
}
