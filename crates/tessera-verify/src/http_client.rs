use std::time::Duration;

use crate::BuildError;

/// HTTPS (rustls with aws-lc-rs, the platform's trust store), 10 s timeout.
pub fn default_client() -> Result<reqwest::Client, BuildError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| BuildError::Http(e.to_string()))
}
