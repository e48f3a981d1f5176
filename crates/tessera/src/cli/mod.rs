//! The `tessera` command line: argument parsing and dispatch to one module per command group.

mod client;
mod client_key;
mod logging;
mod realm;
mod serve;
mod token;
mod token_get;

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand, ValueEnum};

use crate::{
    admin::AdminError,
    config::{self, Overrides, Settings},
    secret::SecretHasher,
    server::ServerError,
    store::{self, Store, StoreError},
};

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "OAuth 2.0 token server for machine-to-machine authentication"
)]
struct Cli {
    /// Database URL [default: sqlite://tessera.db]
    #[arg(
        long = "database",
        global = true,
        env = "TESSERA_DATABASE_URL",
        value_name = "URL"
    )]
    database_url: Option<String>,
    /// PostgreSQL connections per process [default: 8]
    #[arg(
        long,
        global = true,
        env = "TESSERA_DATABASE_POOL_SIZE",
        value_name = "N"
    )]
    database_pool_size: Option<u32>,
    /// Cancel PostgreSQL statements running longer than this [default: 5]
    #[arg(
        long,
        global = true,
        env = "TESSERA_DATABASE_STATEMENT_TIMEOUT",
        value_name = "SECS"
    )]
    database_statement_timeout: Option<u64>,
    /// TOML file with settings (flags and TESSERA_* variables take precedence)
    #[arg(long, global = true, env = "TESSERA_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server
    Serve(serve::ServeArgs),
    /// Manage realms
    #[command(subcommand)]
    Realm(realm::RealmCommand),
    /// Manage clients
    #[command(subcommand)]
    Client(client::ClientCommand),
    /// Work with tokens
    #[command(subcommand)]
    Token(token::TokenCommand),
}

/// How commands print their results.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
enum Output {
    #[default]
    Text,
    Json,
}

#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error("invalid configuration: {0}")]
    Config(#[from] Box<figment::Error>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error(transparent)]
    Server(#[from] ServerError),
    #[error("{0}")]
    Message(String),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let mut overrides = Overrides {
        database_url: cli.database_url,
        database_pool_size: cli.database_pool_size,
        database_statement_timeout: cli.database_statement_timeout,
        ..Overrides::default()
    };
    match cli.command {
        Command::Serve(args) => {
            args.apply(&mut overrides);
            let settings = config::load(cli.config.as_deref(), overrides)?;
            logging::init(&settings)?;
            serve::run(settings, args.dev).await
        }
        Command::Realm(command) => {
            let settings = config::load(cli.config.as_deref(), overrides)?;
            realm::run(command, &Admin::open(&settings).await?).await
        }
        Command::Client(command) => {
            let settings = config::load(cli.config.as_deref(), overrides)?;
            client::run(command, &Admin::open(&settings).await?).await
        }
        Command::Token(command) => token::run(command).await,
    }
}

/// What the administrative commands work with.
struct Admin {
    store: Arc<dyn Store>,
    hasher: SecretHasher,
    clock: crate::clock::SystemClock,
}

impl Admin {
    async fn open(settings: &Settings) -> Result<Admin, CliError> {
        let store = store::open(&settings.database_url, settings.database_options()).await?;
        let hasher = SecretHasher::new(&store.secret_hash_key().await?);
        Ok(Admin {
            store,
            hasher,
            clock: crate::clock::SystemClock,
        })
    }
}

/// Prints a JSON value on one line.
fn print_json(value: &serde_json::Value) {
    println!("{value}");
}
