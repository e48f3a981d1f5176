//! Test databases: a SQLite file in a temporary directory, or a fresh PostgreSQL database per
//! test (dropped afterwards) when `TESSERA_TEST_DATABASE_URL` names a PostgreSQL server.
//! `TESSERA_TEST_BACKEND=sqlite|postgres` picks one when both are possible.

use std::{path::PathBuf, process::Command};

use tempfile::TempDir;

const URL_VAR: &str = "TESSERA_TEST_DATABASE_URL";
const BACKEND_VAR: &str = "TESSERA_TEST_BACKEND";

pub struct TestDatabase {
    pub url: String,
    dir: TempDir,
    /// For PostgreSQL: the server's admin URL and this database's name, to drop it.
    postgres: Option<(String, String)>,
}

/// The PostgreSQL server tests may create databases on. Without one, tests that need it are
/// skipped with a message, except under CI, where that is a failure.
pub fn postgres_server() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{URL_VAR} must name a PostgreSQL server under CI")
        }
        _ => {
            crate::support::tell(&format!(
                "skipping a PostgreSQL test: set {URL_VAR} (e.g. postgres://postgres@127.0.0.1:5432/test) to run it"
            ));
            None
        }
    }
}

impl TestDatabase {
    /// A fresh database of the backend the run is for.
    pub fn new() -> TestDatabase {
        let wants_postgres = match std::env::var(BACKEND_VAR).as_deref() {
            Ok("postgres") => true,
            Ok("sqlite") => false,
            _ => std::env::var(URL_VAR).is_ok_and(|url| !url.is_empty()),
        };
        if wants_postgres {
            let server = postgres_server().expect("a PostgreSQL server for this run");
            TestDatabase::postgres(&server)
        } else {
            TestDatabase::sqlite()
        }
    }

    pub fn sqlite() -> TestDatabase {
        let dir = tempfile::tempdir().expect("temp dir");
        TestDatabase {
            url: format!("sqlite://{}", dir.path().join("tessera.db").display()),
            dir,
            postgres: None,
        }
    }

    /// A new database on the PostgreSQL server at `server`.
    pub fn postgres(server: &str) -> TestDatabase {
        let name = format!(
            "tessera_test_{}",
            tessera::random::uuid().expect("random").replace('-', "")
        );
        run_sql(server, &format!("CREATE DATABASE {name}"));
        TestDatabase {
            url: with_database(server, &name),
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: Some((server.to_owned(), name)),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// Whether `needle` is anywhere in the stored data, as is or hex-encoded (PostgreSQL dumps
    /// `bytea` as hex).
    pub fn holds(&self, needle: &[u8]) -> bool {
        let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
        let dumps: Vec<Vec<u8>> = match &self.postgres {
            None => std::fs::read_dir(self.dir.path())
                .expect("database dir")
                .map(|entry| std::fs::read(entry.expect("entry").path()).expect("file"))
                .collect(),
            Some(_) => {
                let output = Command::new("pg_dump")
                    .args(["--data-only", "--dbname", &self.url])
                    .output()
                    .expect("pg_dump");
                assert!(output.status.success(), "pg_dump failed");
                vec![output.stdout]
            }
        };
        dumps.iter().any(|dump| {
            contains(dump, needle) || contains(&dump.to_ascii_lowercase(), hex.as_bytes())
        })
    }

    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_owned()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take() {
            run_sql(
                &server,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// `server` with its database name replaced by `name`.
pub fn with_database(server: &str, name: &str) -> String {
    let (base, query) = server
        .split_once('?')
        .map_or((server, None), |(b, q)| (b, Some(q)));
    let host = base.rsplit_once('/').map_or(base, |(host, _)| host);
    match query {
        Some(query) => format!("{host}/{name}?{query}"),
        None => format!("{host}/{name}"),
    }
}

/// The single `bigint` a query returns.
pub fn query_scalar(url: &str, sql: &str) -> i64 {
    let sql = sql.to_owned();
    with_connection(url, |mut connection| async move {
        sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(&mut connection)
            .await
            .expect("query")
    })
}

/// Runs one statement on `url`.
pub fn run_sql(url: &str, sql: &str) {
    let sql = sql.to_owned();
    with_connection(url, |mut connection| async move {
        sqlx::query(&sql)
            .execute(&mut connection)
            .await
            .expect("statement");
    });
}

/// Runs `work` on a connection to `url`, on a thread and runtime of its own (tests call this
/// from async code, where blocking on another runtime is not allowed).
fn with_connection<T, F, Fut>(url: &str, work: F) -> T
where
    T: Send + 'static,
    F: FnOnce(sqlx::PgConnection) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
{
    let url = url.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            use sqlx::Connection;
            let connection = sqlx::PgConnection::connect(&url)
                .await
                .expect("connect to PostgreSQL");
            work(connection).await
        })
    })
    .join()
    .expect("PostgreSQL work")
}
