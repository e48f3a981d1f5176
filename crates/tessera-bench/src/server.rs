//! The release server as a separate process, and what /proc says about it.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    time::Duration,
};

/// Database statements the server logged, split into its periodic change checks and the rest.
#[derive(Default)]
pub struct Statements {
    pub change_checks: AtomicU64,
    pub other: AtomicU64,
}

pub struct Server {
    child: Child,
    pub address: String,
    pub statements: Arc<Statements>,
}

impl Server {
    /// Starts `tessera serve` on a free port with the log filter `log` (the default is what
    /// production runs), plus debug logs of database statements so they can be counted.
    pub fn start(binary: &Path, database: &str, log: &str) -> Result<Server, String> {
        let mut child = Command::new(binary)
            .args(["--database", database, "serve", "--listen", "127.0.0.1:0"])
            .env("TESSERA_LOG", format!("{log},sqlx::query=debug"))
            .env_remove("TESSERA_DATABASE_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let statements = Arc::new(Statements::default());
        let counts = Arc::clone(&statements);
        let (address_tx, address_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("sqlx::query") {
                    let counter = if line.contains("FROM revision") {
                        &counts.change_checks
                    } else {
                        &counts.other
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                } else if line.contains("listening") {
                    if let Some(rest) = line.split("address=").nth(1) {
                        let address = rest.split_whitespace().next().unwrap_or_default();
                        let _ = address_tx.send(address.to_owned());
                    }
                }
            }
        });
        let address = address_rx
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| "the server did not report its address".to_owned())?;
        Ok(Server {
            child,
            address,
            statements,
        })
    }

    /// User plus system CPU time the server process has used, in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / clock_ticks_per_second()
    }

    /// Resident memory, in MB.
    pub fn rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// USER_HZ: 100 on every Linux this runs on.
fn clock_ticks_per_second() -> f64 {
    100.0
}
