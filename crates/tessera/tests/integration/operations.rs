//! Running Tessera: dev mode, health probes, logs without secrets, graceful shutdown.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use serde_json::Value;

use crate::support::{ServerProcess, TestDatabase, TestServer, cli, http_client};

fn wait_for_output(server: &ServerProcess, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = server.stdout();
        if out.contains(needle) {
            return out;
        }
        assert!(Instant::now() < deadline, "no '{needle}' in output: {out}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn health_probes_answer() {
    let server = TestServer::start();
    for (path, status) in [("live", "up"), ("ready", "ready")] {
        let response = server
            .http
            .get(format!("{}/health/{path}", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], status);
    }
}

#[test]
fn dev_mode_prints_a_curl_that_returns_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerProcess::start(dir.path(), &["--dev"], &[]);
    let out = wait_for_output(&server, "curl ");
    let curl = out
        .lines()
        .find(|l| l.trim_start().starts_with("curl "))
        .unwrap()
        .trim();
    assert!(curl.contains(&format!(
        "{}/realms/dev/protocol/openid-connect/token",
        server.url
    )));
    let result = std::process::Command::new("sh")
        .args(["-c", curl])
        .output()
        .unwrap();
    assert!(
        result.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    let body: Value = serde_json::from_slice(&result.stdout).expect("curl printed JSON");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["access_token"].as_str().unwrap().starts_with("ey"));
    // The embedded default database is created in the working directory.
    assert!(dir.path().join("tessera.db").exists());
    server.terminate();
    assert!(server.wait(Duration::from_secs(10)).success());

    // A second start keeps the realm and client and shows no secret.
    let secret = out
        .lines()
        .find_map(|l| l.strip_prefix("Client secret (shown only this once): "))
        .unwrap();
    let again = ServerProcess::start(dir.path(), &["--dev"], &[]);
    let out = wait_for_output(&again, "curl ");
    assert!(!out.contains(secret));
    assert!(out.contains("rotate-secret --realm dev demo"));
}

#[test]
fn sigterm_lets_an_in_flight_request_finish_then_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new();
    let database = db.url.clone();
    cli(&database, &["realm", "create", "prod"], None).success();
    let created = cli(
        &database,
        &[
            "client", "create", "--realm", "prod", "svc", "--output", "json",
        ],
        None,
    )
    .success()
    .json();
    let secret = created["client_secret"].as_str().unwrap();
    let mut server = ServerProcess::start(dir.path(), &["--database", &database], &[]);

    // Send the headers and half the body, then ask the server to stop.
    let body = format!("grant_type=client_credentials&client_id=svc&client_secret={secret}");
    let (first, second) = body.split_at(20);
    let mut stream = TcpStream::connect(&server.address).unwrap();
    write!(
        stream,
        "POST /realms/prod/protocol/openid-connect/token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first}",
        server.address,
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.terminate();
    std::thread::sleep(Duration::from_millis(200));
    stream.write_all(second.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("access_token"));

    let status = server.wait(Duration::from_secs(10));
    assert!(status.success(), "exit status {status}");
    // It no longer accepts connections.
    assert!(TcpStream::connect(&server.address).is_err());
}

#[tokio::test]
async fn logs_never_contain_secrets_tokens_or_authorization_headers() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new();
    let database = db.url.clone();
    cli(&database, &["realm", "create", "prod"], None).success();
    let created = cli(
        &database,
        &[
            "client", "create", "--realm", "prod", "svc", "--output", "json",
        ],
        None,
    )
    .success()
    .json();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    for format in ["text", "json"] {
        let mut server = ServerProcess::start(
            dir.path(),
            &["--database", &database],
            &[("TESSERA_LOG", "trace"), ("TESSERA_LOG_FORMAT", format)],
        );
        let http = http_client();
        let token_url = format!("{}/realms/prod/protocol/openid-connect/token", server.url);
        let basic = STANDARD.encode(format!("svc:{secret}"));
        let response = http
            .post(&token_url)
            .header("authorization", format!("Basic {basic}"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let token = response.json::<Value>().await.unwrap()["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        // Secrets in the body, wrong secrets, secrets in the query string, malformed requests.
        let post_body =
            format!("grant_type=client_credentials&client_id=svc&client_secret={secret}");
        let requests = [
            http.post(&token_url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(post_body.clone()),
            http.post(format!("{token_url}?client_secret={secret}"))
                .form(&[("grant_type", "client_credentials")]),
            http.post(&token_url)
                .basic_auth("svc", Some("wrong-secret-value"))
                .form(&[("grant_type", "x")]),
            http.post(&token_url)
                .header("content-type", "application/json")
                .body(post_body.clone()),
            http.get(format!(
                "{}/realms/prod/protocol/openid-connect/certs",
                server.url
            ))
            .bearer_auth(&token),
        ];
        for request in requests {
            request.send().await.unwrap();
        }
        server.terminate();
        assert!(server.wait(Duration::from_secs(10)).success());

        let logs = format!("{}{}", server.stdout(), server.stderr());
        assert!(logs.contains("served"), "requests are logged: {logs}");
        for needle in [
            secret.as_str(),
            &token,
            &basic,
            "wrong-secret-value",
            "authorization",
            "Authorization",
        ] {
            assert!(
                !logs.contains(needle),
                "log ({format}) contains {needle}:\n{logs}"
            );
        }
        // The token's signature and payload parts are not there either.
        for part in token.split('.').skip(1) {
            assert!(!logs.contains(part));
        }
    }
}

#[tokio::test]
async fn a_printed_private_key_is_nowhere_in_the_database_or_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDatabase::new();
    let database = db.url.clone();
    cli(&database, &["realm", "create", "prod"], None).success();
    cli(
        &database,
        &["client", "create", "--realm", "prod", "svc", "--no-secret"],
        None,
    )
    .success();
    let mut server = ServerProcess::start(
        dir.path(),
        &["--database", &database, "--frontier-realm", "prod"],
        &[("TESSERA_LOG", "trace")],
    );
    let key = cli(
        &database,
        &[
            "client", "key", "create", "--realm", "prod", "svc", "--output", "json",
        ],
        None,
    )
    .success()
    .json();
    let pem = key["private_key"].as_str().unwrap();
    let der = {
        let (label, der) = tessera::keys::pem::decode(pem).unwrap();
        assert_eq!(label, "PRIVATE KEY");
        der
    };

    // Use the key on both endpoints, so the server has handled it.
    let http = http_client();
    let audience = format!("{}/realms/prod/protocol/openid-connect/token", server.url);
    let accepted = crate::support::eventually(|| async {
        let assertion = crate::support::sign_with(
            &key,
            "RS256",
            &crate::support::assertion_claims("svc", &audience),
        );
        let response = http
            .post(&audience)
            .form(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                ("assertion", &assertion),
            ])
            .send()
            .await
            .ok()?;
        (response.status() == 200).then_some(())
    })
    .await;
    assert!(accepted.is_some());
    server.terminate();
    assert!(server.wait(Duration::from_secs(10)).success());

    let logs = format!("{}{}", server.stdout(), server.stderr());
    assert!(logs.contains("served"));
    let pem_lines: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for line in &pem_lines {
        assert!(
            !logs.contains(line),
            "a line of the private key is in the logs"
        );
    }
    // The DER ends with the private CRT parameters; any stretch of them would give it away.
    // (Its start is shared with every RSA key and holds the public modulus.)
    for chunk in der[der.len() - 256..].chunks(32) {
        assert!(!db.holds(chunk), "private key bytes in the database");
    }
    for line in &pem_lines {
        assert!(!db.holds(line.as_bytes()));
    }
}

#[test]
fn the_readmes_first_command_runs_the_server() {
    // `cargo run --release -- serve --dev` in the workspace root must pick the server binary.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = std::process::Command::new(cargo)
        .current_dir(root)
        .args(["run", "--quiet", "--", "--version"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.starts_with("tessera "), "{stdout}");
}
