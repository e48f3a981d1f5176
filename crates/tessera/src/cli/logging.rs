use std::io::IsTerminal;

use tracing_subscriber::{filter::Targets, prelude::*};

use super::CliError;
use crate::config::{LogFormat, Settings};

/// Logs go to standard error; standard output is for what commands print.
pub fn init(settings: &Settings) -> Result<(), CliError> {
    let filter: Targets = settings
        .log
        .parse()
        .map_err(|e| CliError::Message(format!("invalid log filter '{}': {e}", settings.log)))?;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let registry = tracing_subscriber::registry();
    let result = match settings.log_format {
        LogFormat::Text => registry.with(layer.with_filter(filter)).try_init(),
        LogFormat::Json => registry.with(layer.json().with_filter(filter)).try_init(),
    };
    result.map_err(|e| CliError::Message(format!("cannot set up logging: {e}")))
}
