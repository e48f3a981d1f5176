//! PostgreSQL: several instances on one database stay consistent, survive a database outage,
//! and issue tokens without touching the database. These need a PostgreSQL server
//! (`TESSERA_TEST_DATABASE_URL`); without one they are skipped, except under CI.

use std::{collections::HashMap, time::Duration};

use serde_json::Value;

use crate::support::{
    Proxy, ServerProcess, Setup, TestDatabase, TestServer, assertion_claims, cli, create_key,
    eventually, jwt_parts, postgres_server, sign_with, with_database,
};

const CLIENT_CREDENTIALS: [(&str, &str); 1] = [("grant_type", "client_credentials")];
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// The URL both instances are reached at behind their (imagined) load balancer: tokens and
/// accepted assertion audiences name it, whichever instance served them.
const PUBLIC_URL: &str = "https://auth.example.com";
const ISSUER: &str = "https://auth.example.com/realms/prod";

/// Two servers on one fresh PostgreSQL database, with realm `prod` and client `svc`.
async fn two_instances() -> Option<(TestDatabase, TestServer, TestServer, String)> {
    let database = TestDatabase::postgres(&postgres_server()?);
    let start = || {
        TestServer::start_with(Setup {
            database_url: Some(database.url.clone()),
            public_url: Some(PUBLIC_URL.into()),
            ..Setup::default()
        })
    };
    let (a, b) = (start(), start());
    let secret = a.realm_with_client("prod", &[]).await;
    b.wait_for_client("prod", "svc", &secret).await;
    Some((database, a, b, secret))
}

async fn status(server: &TestServer, secret: &str) -> u16 {
    server
        .token_basic("prod", "svc", secret, &CLIENT_CREDENTIALS)
        .await
        .status()
        .as_u16()
}

/// Waits until `check` holds (within the 1 s changes may take to reach an instance).
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let reached = eventually(|| {
        let holds = check();
        async move { holds.await.then_some(()) }
    })
    .await;
    assert!(reached.is_some(), "{what}: not in effect within 1 s");
}

#[tokio::test]
async fn admin_changes_reach_every_instance_within_a_second() {
    let Some((_db, a, b, secret)) = two_instances().await else {
        return;
    };
    // Created through one instance's database (the CLI), usable on both.
    let other = a.create_client("prod", "other", &[]);
    for server in [&a, &b] {
        server.wait_for_client("prod", "other", &other).await;
    }
    a.cli(&["client", "disable", "--realm", "prod", "svc"])
        .success();
    until("disable", || async { status(&b, &secret).await == 401 }).await;
    a.cli(&["client", "enable", "--realm", "prod", "svc"])
        .success();
    until("enable", || async { status(&b, &secret).await == 200 }).await;
    let rotated = a
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
    let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
    until("new secret", || async {
        status(&b, &new_secret).await == 200
    })
    .await;
    until("old secret", || async { status(&b, &secret).await == 401 }).await;
    a.cli(&["client", "delete", "--realm", "prod", "svc"])
        .success();
    until("delete", || async { status(&b, &new_secret).await == 401 }).await;
}

#[tokio::test]
async fn a_token_revoked_on_one_is_inactive_on_the_other() {
    let Some((_db, a, b, secret)) = two_instances().await else {
        return;
    };
    let rs_secret = a.create_client("prod", "rs", &[]);
    b.wait_for_client("prod", "rs", &rs_secret).await;
    let token = a.wait_for_client("prod", "svc", &secret).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let introspect = |server: &TestServer| {
        let request = server
            .http
            .post(format!(
                "{}/protocol/openid-connect/token/introspect",
                server.issuer("prod")
            ))
            .basic_auth("rs", Some(&rs_secret))
            .form(&[("token", token.as_str())]);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap()["active"] == true }
    };
    assert!(introspect(&b).await);
    let revoked = a.revoke("svc", &secret, &token).await;
    assert_eq!(revoked.status(), 200);
    until("revocation", || {
        let active = introspect(&b);
        async move { !active.await }
    })
    .await;
}

#[tokio::test]
async fn an_assertion_used_on_one_is_refused_on_the_other() {
    let Some((_db, a, b, _)) = two_instances().await else {
        return;
    };
    let key = create_key(&a, "prod", "svc", "EdDSA");
    let post = |server: &TestServer, assertion: &str| {
        let request = server
            .http
            .post(server.token_url("prod"))
            .form(&[("grant_type", JWT_BEARER), ("assertion", assertion)]);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let fresh = || sign_with(&key, "EdDSA", &assertion_claims("svc", ISSUER));
    for server in [&a, &b] {
        let accepted =
            eventually(|| async { (post(server, &fresh()).await == 200).then_some(()) }).await;
        assert!(accepted.is_some(), "key known");
    }
    let once = fresh();
    assert_eq!(post(&a, &once).await, 200);
    assert_eq!(post(&b, &once).await, 400, "replayed on the other instance");
}

#[tokio::test]
async fn instances_sign_with_the_same_key_and_rotation_reaches_both() {
    let Some((_db, a, b, secret)) = two_instances().await else {
        return;
    };
    let jwks = |server: &TestServer| {
        let request = server.http.get(format!(
            "{}/protocol/openid-connect/certs",
            server.issuer("prod")
        ));
        async move { request.send().await.unwrap().text().await.unwrap() }
    };
    let kid = |server: &TestServer| {
        let request = server
            .http
            .post(server.token_url("prod"))
            .basic_auth("svc", Some(&secret))
            .form(&CLIENT_CREDENTIALS);
        async move {
            let body: Value = request.send().await.unwrap().json().await.unwrap();
            jwt_parts(body["access_token"].as_str().unwrap()).0["kid"].clone()
        }
    };
    assert_eq!(jwks(&a).await, jwks(&b).await);
    let before = kid(&a).await;
    assert_eq!(kid(&b).await, before);
    a.cli(&["realm", "rotate-key", "prod"]).success();
    for server in [&a, &b] {
        until("rotation", || {
            let (kid, before) = (kid(server), before.clone());
            async move { kid.await != before }
        })
        .await;
    }
    assert_eq!(kid(&a).await, kid(&b).await);
    assert_eq!(jwks(&a).await, jwks(&b).await);
}

#[test]
fn instances_starting_together_on_a_new_database_migrate_it_once() {
    let Some(server) = postgres_server() else {
        return;
    };
    let database = TestDatabase::postgres(&server);
    let dir = tempfile::tempdir().unwrap();
    let starts: Vec<_> = (0..3)
        .map(|_| {
            let (dir, url) = (dir.path().to_owned(), database.url.clone());
            std::thread::spawn(move || ServerProcess::start(&dir, &["--database", &url], &[]))
        })
        .collect();
    let servers: Vec<ServerProcess> = starts.into_iter().map(|s| s.join().unwrap()).collect();
    assert_eq!(servers.len(), 3);
    // Each migration applied once, successfully.
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count();
    let applied = crate::support::query_scalar(
        &database.url,
        "SELECT count(*) FROM _sqlx_migrations WHERE success",
    );
    assert_eq!(applied, i64::try_from(migrations).unwrap());
    cli(&database.url, &["realm", "create", "prod"], None).success();
}

#[tokio::test]
async fn through_a_database_outage_tokens_keep_coming_and_all_recovers() {
    let Some(server_url) = postgres_server() else {
        return;
    };
    let database = TestDatabase::postgres(&server_url);
    let target = postgres_host(&server_url);
    let proxy = Proxy::start(&target);
    let via_proxy = with_database(
        &format!("postgres://postgres@{}/x", proxy.address),
        database_name(&database.url),
    );
    let server = TestServer::start_with(Setup {
        database_url: Some(via_proxy.clone()),
        ..Setup::default()
    });
    let secret = server.realm_with_client("prod", &[]).await;
    let key = create_key(&server, "prod", "svc", "EdDSA");
    let audience = server.issuer("prod");
    let assertion = || sign_with(&key, "EdDSA", &assertion_claims("svc", &audience));
    let grant = |assertion: String| {
        let request = server.http.post(server.token_url("prod")).form(&[
            ("grant_type", JWT_BEARER),
            ("assertion", assertion.as_str()),
        ]);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    eventually(|| async { (grant(assertion()).await == 200).then_some(()) })
        .await
        .expect("key known");
    let ready = || async {
        let response = reqwest::get(format!("{}/health/ready", server.url))
            .await
            .unwrap();
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    };
    assert_eq!(ready().await.1["status"], "ready");

    proxy.cut();
    // Tokens keep coming from the cache, for secrets and assertions alike.
    for _ in 0..20 {
        assert_eq!(status(&server, &secret).await, 200);
    }
    let once = assertion();
    assert_eq!(grant(once.clone()).await, 200);
    assert_eq!(
        grant(once).await,
        400,
        "replay still refused on this instance"
    );
    // Ready stays 200, saying why it is degraded.
    let (code, body) = ready().await;
    assert_eq!(code, 200);
    assert_eq!(body["status"], "degraded");
    assert!(
        body["reason"].as_str().unwrap().contains("database"),
        "{body}"
    );
    // Admin changes through the cut connection fail clearly; revocations are refused for now.
    let failed = cli(&via_proxy, &["client", "list", "--realm", "prod"], None).failure();
    assert!(
        failed.stderr().contains("cannot reach the database"),
        "{}",
        failed.stderr()
    );
    let token = server.wait_for_client("prod", "svc", &secret).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoke = server
        .http
        .post(format!(
            "{}/protocol/openid-connect/revoke",
            server.issuer("prod")
        ))
        .basic_auth("svc", Some(&secret))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoke.status(), 503);
    assert_eq!(
        revoke.json::<Value>().await.unwrap()["error"],
        "temporarily_unavailable"
    );
    // Meanwhile another instance (directly on the database) disables the client.
    cli(
        &database.url,
        &["client", "disable", "--realm", "prod", "svc"],
        None,
    )
    .success();

    proxy.restore();
    // Recovery by itself: ready again, and the change made during the outage arrives.
    let recovered = crate::support::eventually_within(Duration::from_secs(15), || async {
        (ready().await.1["status"] == "ready" && status(&server, &secret).await == 401)
            .then_some(())
    })
    .await;
    assert!(recovered.is_some(), "recovered after the outage");
}

#[tokio::test]
async fn issuing_tokens_runs_no_database_statement() {
    let Some(server_url) = postgres_server() else {
        return;
    };
    let database = TestDatabase::postgres(&server_url);
    let server = TestServer::start_with(Setup {
        database_url: Some(database.url.clone()),
        // No periodic purges during the count: only the change check touches the database.
        purge_interval: Duration::from_secs(3600),
        ..Setup::default()
    });
    let secret = server.realm_with_client("prod", &[]).await;
    let operations = || async {
        let text = server
            .http
            .get(format!("{}/metrics", server.url))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .filter_map(|line| line.strip_prefix("tessera_database_operations_total{operation=\""))
            .filter_map(|rest| rest.split_once("\"} "))
            .filter(|(operation, _)| *operation != "revision")
            .map(|(operation, count)| (operation.to_owned(), count.parse::<u64>().unwrap()))
            .collect::<HashMap<String, u64>>()
    };
    let before = operations().await;
    assert!(
        before.contains_key("load"),
        "the counters count: {before:?}"
    );
    for _ in 0..1000 {
        assert_eq!(status(&server, &secret).await, 200);
    }
    // Besides the periodic change check, nothing ran.
    assert_eq!(operations().await, before);
    assert_eq!(server.metric("tessera_tokens_issued_total").await, 1001);
}

fn postgres_host(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split(['/', '?']).next().unwrap_or(rest).to_owned()
}

fn database_name(url: &str) -> &str {
    url.rsplit('/')
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
}

#[test]
fn statements_that_change_nothing_do_not_signal_a_change() {
    let Some(server) = postgres_server() else {
        return;
    };
    let database = TestDatabase::postgres(&server);
    cli(&database.url, &["realm", "create", "prod"], None).success();
    let revision = || crate::support::query_scalar(&database.url, "SELECT value FROM revision");
    let before = revision();
    // What the periodic purge runs when nothing has expired.
    crate::support::run_sql(&database.url, "DELETE FROM used_jtis WHERE expires_at < 0");
    crate::support::run_sql(
        &database.url,
        "DELETE FROM revoked_tokens WHERE expires_at < 0",
    );
    crate::support::run_sql(
        &database.url,
        "UPDATE clients SET enabled = TRUE WHERE FALSE",
    );
    assert_eq!(revision(), before);
    cli(
        &database.url,
        &["client", "create", "--realm", "prod", "svc"],
        None,
    )
    .success();
    assert_eq!(revision(), before + 1);
}

#[tokio::test]
async fn a_pool_of_one_connection_still_hears_about_changes() {
    let Some(server) = postgres_server() else {
        return;
    };
    let database = TestDatabase::postgres(&server);
    let dir = tempfile::tempdir().unwrap();
    cli(&database.url, &["realm", "create", "prod"], None).success();
    let created = cli(
        &database.url,
        &[
            "client", "create", "--realm", "prod", "svc", "--output", "json",
        ],
        None,
    )
    .success()
    .json();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let process = ServerProcess::start(
        dir.path(),
        &["--database", &database.url, "--database-pool-size", "1"],
        &[],
    );
    let token_url = format!("{}/realms/prod/protocol/openid-connect/token", process.url);
    let status = || async {
        reqwest::Client::new()
            .post(&token_url)
            .basic_auth("svc", Some(&secret))
            .form(&CLIENT_CREDENTIALS)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(status().await, 200);
    cli(
        &database.url,
        &["client", "disable", "--realm", "prod", "svc"],
        None,
    )
    .success();
    let refused = eventually(|| async { (status().await == 401).then_some(()) }).await;
    assert!(refused.is_some(), "the change arrived within 1 s");
}
