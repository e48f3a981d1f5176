//! The only place that reads the wall clock. Everything else takes a `Clock`, so expiry and
//! rotation rules are testable without sleeping.

use std::time::{Duration, UNIX_EPOCH};

/// Seconds since the Unix epoch.
pub type UnixTime = u64;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> UnixTime;
}

/// The real wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> UnixTime {
        std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs()
    }
}
