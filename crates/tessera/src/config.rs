//! Settings, layered: command-line flags > environment (`TESSERA_*`, read by clap) > TOML file
//! (`--config`) > defaults.

use std::{net::SocketAddr, path::Path};

use figment::{
    Figment,
    providers::{Format, Serialized, Toml},
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://PATH` (the file is created if missing) or `postgres://…`.
    pub database_url: String,
    /// PostgreSQL connections per process.
    pub database_pool_size: u32,
    /// PostgreSQL statements running longer (seconds) are cancelled.
    pub database_statement_timeout: u64,
    /// Address the HTTP server binds.
    pub listen: SocketAddr,
    /// Base URL clients reach the server at; token issuers derive from it. Default `http://<listen>`.
    pub public_url: Option<String>,
    /// Log filter: a level (`info`) or per-target levels (`warn,tessera=debug`).
    pub log: String,
    pub log_format: LogFormat,
    /// The realm the Frontier-compatible endpoints serve; unset, they are off.
    pub frontier_realm: Option<String>,
    /// How far ahead a client assertion's `exp` may be, in seconds.
    pub assertion_max_lifetime: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://tessera.db".into(),
            database_pool_size: 8,
            database_statement_timeout: 5,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            log: "info".into(),
            log_format: LogFormat::Text,
            frontier_realm: None,
            assertion_max_lifetime: 600,
        }
    }
}

/// Values given on the command line or in the environment; unset ones fall through.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_pool_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_statement_timeout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frontier_realm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assertion_max_lifetime: Option<u64>,
}

impl Settings {
    pub fn database_options(&self) -> crate::store::DatabaseOptions {
        crate::store::DatabaseOptions {
            pool_size: self.database_pool_size.max(1),
            statement_timeout: std::time::Duration::from_secs(
                self.database_statement_timeout.max(1),
            ),
        }
    }
}

pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Settings, Box<figment::Error>> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(file) = file {
        figment = figment.merge(Toml::file_exact(file));
    }
    figment
        .merge(Serialized::defaults(overrides))
        .extract()
        .map_err(Box::new)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tessera.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nlog = \"debug\"\n").unwrap();
        let settings = load(
            Some(&file),
            Overrides {
                log: Some("warn".into()),
                ..Overrides::default()
            },
        )
        .unwrap();
        assert_eq!(settings.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(settings.log, "warn");
        assert_eq!(settings.database_url, "sqlite://tessera.db");
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tessera.toml");
        std::fs::write(&file, "listne = \"0.0.0.0:9000\"\n").unwrap();
        assert!(load(Some(&file), Overrides::default()).is_err());
        assert!(load(Some(&dir.path().join("missing.toml")), Overrides::default()).is_err());
    }
}
