//! `tessera serve` as a separate process, for what only a real process shows: its output,
//! signals, exit status.

use std::{
    io::{BufRead, BufReader, Read},
    path::Path,
    process::{Child, ExitStatus, Stdio},
    sync::{Arc, Mutex, mpsc},
    thread,
    time::Duration,
};

use super::tessera_command;

pub struct ServerProcess {
    child: Child,
    pub address: String,
    pub url: String,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// Starts `tessera serve --listen 127.0.0.1:0 ARGS…` in `dir` with `env`, and waits until
    /// it logs the address it listens on.
    pub fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> ServerProcess {
        let mut command = tessera_command();
        command
            .current_dir(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start tessera serve");
        let stdout = collect(child.stdout.take().expect("stdout"), None);
        let (listening_tx, listening_rx) = mpsc::channel();
        let stderr = collect(child.stderr.take().expect("stderr"), Some(listening_tx));
        let address = listening_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!(
                    "server did not start: {}",
                    stderr.lock().map(|s| s.clone()).unwrap_or_default()
                )
            });
        ServerProcess {
            child,
            url: format!("http://{address}"),
            address,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Sends SIGTERM.
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "server did not exit");
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Collects a pipe into a string; reports the address from the "listening" log line.
fn collect(
    pipe: impl Read + Send + 'static,
    listening: Option<mpsc::Sender<String>>,
) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let (Some(tx), true) = (&listening, line.contains("listening")) {
                // Text logs say `address=…`, JSON logs `"address":"…"`.
                let address = line
                    .split("address=")
                    .nth(1)
                    .or_else(|| line.split("\"address\":\"").nth(1))
                    .and_then(|rest| rest.split([' ', '"']).next());
                if let Some(address) = address {
                    let _ = tx.send(address.to_owned());
                }
            }
            if let Ok(mut text) = sink.lock() {
                text.push_str(&line);
                text.push('\n');
            }
        }
    });
    text
}
