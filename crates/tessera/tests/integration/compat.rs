//! Real third-party client libraries against the real server: python-keycloak and Authlib
//! (compat/python), openid-client and jose (compat/node). `.ci/run` installs them; elsewhere
//! these tests are skipped with a message unless CI is set, where a missing library fails.

use std::{path::PathBuf, process::Command};

use crate::support::TestServer;

fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../compat")
}

/// Whether the libraries are missing and the test should be skipped (never under CI).
fn skip(what: &str, hint: &str) -> bool {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what} is not installed, and CI requires it: {hint}");
    }
    crate::support::tell(&format!("skipping: {what} is not installed ({hint})"));
    true
}

/// Runs a compat script against a fresh server for each signing algorithm.
async fn run_script(program: &str, script: &str) {
    for (realm, alg) in [("rs", "RS256"), ("es", "ES256"), ("ed", "EdDSA")] {
        let server = TestServer::start();
        server.create_realm(realm, &["--signing-alg", alg]).await;
        let secret = server.create_client(realm, "compat-svc", &["--scope", "tenant/*"]);
        server.wait_for_client(realm, "compat-svc", &secret).await;
        let output = Command::new(program)
            .arg(compat_dir().join(script))
            .env("TESSERA_URL", &server.url)
            .env("TESSERA_REALM", realm)
            .env("TESSERA_CLIENT_ID", "compat-svc")
            .env("TESSERA_CLIENT_SECRET", &secret)
            .env("TESSERA_SCOPE", "tenant/3f2a")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{script} ({alg}) failed:\n{stdout}\n{stderr}"
        );
        assert!(stdout.contains(" 0 failed"), "{stdout}");
    }
}

#[tokio::test]
async fn python_keycloak_and_authlib() {
    let Some(python) = std::env::var_os("TESSERA_COMPAT_PYTHON") else {
        skip(
            "the Python compat environment",
            "set TESSERA_COMPAT_PYTHON to a python with compat/python/requirements.txt installed",
        );
        return;
    };
    run_script(python.to_str().unwrap(), "python/keycloak_compat.py").await;
}

#[tokio::test]
async fn openid_client_and_jose() {
    if !compat_dir()
        .join("node/node_modules/openid-client")
        .exists()
    {
        skip("openid-client", "run `npm ci --prefix compat/node`");
        return;
    }
    run_script("node", "node/openid_client_compat.mjs").await;
}
