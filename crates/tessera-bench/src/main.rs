//! tessera-bench: the token endpoint under load, measured against the raw cost of signing.
//!
//! Starts the release server on SQLite, drives client_credentials requests over keep-alive
//! HTTP/1.1, and reports tokens/s, latency, the server's CPU time per token (from /proc) as a
//! ratio to the fastest raw signature measured in the same run, memory and start-up time.
//! See BENCHMARKS.md.

mod load;
mod server;
mod setup;
mod sign;

use std::{
    path::PathBuf,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use clap::Parser;
use setup::Auth;
use tessera::keys::SigningAlg;

#[derive(Debug, Parser)]
#[command(about = "Benchmark the Tessera token endpoint")]
struct Args {
    /// The server binary [default: `tessera` next to this one]
    #[arg(long)]
    server: Option<PathBuf>,
    /// Seconds of load per measurement
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent keep-alive connections
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Runs per scenario; the median is reported
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Tokens to issue before reading memory under load
    #[arg(long, default_value_t = 100_000)]
    memory_tokens: usize,
    /// Clients in the realm for the client-lookup scenario
    #[arg(long, default_value_t = 10_000)]
    many_clients: usize,
    /// Only these algorithms (repeatable) [default: all]
    #[arg(long = "alg", value_name = "ALG")]
    algs: Vec<SigningAlg>,
    /// Only client_secret_basic (skip private_key_jwt)
    #[arg(long)]
    basic_only: bool,
    /// The server's log filter
    #[arg(long, default_value = "info")]
    server_log: String,
    /// Skip the memory and client-lookup measurements
    #[arg(long)]
    skip_scale: bool,
    /// A few seconds in all, to show the harness works (numbers are not meaningful)
    #[arg(long)]
    smoke: bool,
}

/// One scenario's measurements.
#[derive(Debug, Clone, Copy, Default)]
struct Measurement {
    tokens_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_us_per_token: f64,
    start_to_first_token_ms: f64,
    idle_rss_mb: f64,
    statements: u64,
    failed: u64,
}

struct Bench {
    args: Args,
    binary: PathBuf,
    duration: Duration,
    warmup: Duration,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut args = Args::parse();
    if args.smoke {
        args.seconds = 1;
        args.runs = 1;
        args.connections = args.connections.min(8);
        args.memory_tokens = 2_000;
        args.many_clients = 500;
    }
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let binary = match &args.server {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .map_err(|e| e.to_string())?
            .with_file_name("tessera"),
    };
    if !binary.exists() {
        return Err(format!(
            "no server binary at {} (build both with `cargo build --release --workspace`)",
            binary.display()
        ));
    }
    let bench = Bench {
        duration: Duration::from_secs(args.seconds),
        warmup: if args.smoke {
            Duration::from_millis(200)
        } else {
            Duration::from_secs(2)
        },
        binary,
        args,
    };
    print_machine(&bench);

    println!("\n## Raw signing cost (one core, µs per signature)\n");
    println!("| algorithm | backend | µs/sign |\n|---|---|---|");
    let sign_time = if bench.args.smoke {
        Duration::from_millis(50)
    } else {
        Duration::from_secs(2)
    };
    let mut fastest = Vec::new();
    for alg in SigningAlg::ALL {
        let results = sign::measure(alg, sign_time);
        for (backend, micros) in &results {
            println!("| {alg} | {backend} | {micros:.1} |");
        }
        let best = results
            .iter()
            .map(|(_, m)| *m)
            .fold(f64::INFINITY, f64::min);
        fastest.push((alg, best));
    }

    println!(
        "\n## Token endpoint ({} connections, {} s per run, median of {} runs)\n",
        bench.args.connections, bench.args.seconds, bench.args.runs
    );
    println!(
        "| algorithm | client auth | tokens/s | p50 ms | p99 ms | server CPU µs/token | × fastest raw sign | first token ms | idle RSS MB | DB statements | failed |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let auths: &[Auth] = if bench.args.basic_only {
        &[Auth::ClientSecretBasic]
    } else {
        &[Auth::ClientSecretBasic, Auth::PrivateKeyJwt]
    };
    let selected = |alg: &SigningAlg| bench.args.algs.is_empty() || bench.args.algs.contains(alg);
    for (alg, raw) in fastest.iter().filter(|(alg, _)| selected(alg)) {
        for &auth in auths {
            let m = bench.median(*alg, 1, auth).await?;
            println!(
                "| {alg} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {:.3} | {:.0} | {:.1} | {} | {} |",
                match auth {
                    Auth::ClientSecretBasic => "client_secret_basic",
                    Auth::PrivateKeyJwt => "private_key_jwt",
                },
                m.tokens_per_second,
                m.p50_ms,
                m.p99_ms,
                m.cpu_us_per_token,
                m.cpu_us_per_token / raw,
                m.start_to_first_token_ms,
                m.idle_rss_mb,
                m.statements,
                m.failed,
            );
        }
    }

    if bench.args.skip_scale {
        return Ok(());
    }
    println!("\n## Memory and client lookup (EdDSA, client_secret_basic)\n");
    let (idle, loaded) = bench.memory(SigningAlg::EdDSA).await?;
    println!(
        "- RSS idle after start: {idle:.1} MB; after {} tokens: {loaded:.1} MB",
        bench.args.memory_tokens
    );
    let one = bench
        .median(SigningAlg::EdDSA, 1, Auth::ClientSecretBasic)
        .await?;
    let many = bench
        .median(
            SigningAlg::EdDSA,
            bench.args.many_clients,
            Auth::ClientSecretBasic,
        )
        .await?;
    println!(
        "- tokens/s with 1 client: {:.0}; with {} clients (requests spread over all): {:.0} ({:.2}×)",
        one.tokens_per_second,
        bench.args.many_clients,
        many.tokens_per_second,
        many.tokens_per_second / one.tokens_per_second
    );
    if one.failed + many.failed > 0 {
        return Err("some token requests failed".into());
    }
    Ok(())
}

fn print_machine(bench: &Bench) {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("# tessera-bench\n");
    println!("- machine: {cores} cores, {model}");
    println!("- server: {}", bench.binary.display());
    if bench.args.smoke {
        println!("- smoke mode: numbers are not meaningful");
    }
}

impl Bench {
    async fn median(
        &self,
        alg: SigningAlg,
        clients: usize,
        auth: Auth,
    ) -> Result<Measurement, String> {
        let mut runs = Vec::new();
        for _ in 0..self.args.runs {
            runs.push(self.measure(alg, clients, auth).await?);
        }
        let median = |f: fn(&Measurement) -> f64| {
            let mut values: Vec<f64> = runs.iter().map(f).collect();
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        Ok(Measurement {
            tokens_per_second: median(|m| m.tokens_per_second),
            p50_ms: median(|m| m.p50_ms),
            p99_ms: median(|m| m.p99_ms),
            cpu_us_per_token: median(|m| m.cpu_us_per_token),
            start_to_first_token_ms: median(|m| m.start_to_first_token_ms),
            idle_rss_mb: median(|m| m.idle_rss_mb),
            statements: runs.iter().map(|m| m.statements).max().unwrap_or(0),
            failed: runs.iter().map(|m| m.failed).sum(),
        })
    }

    /// One run: a fresh database and server, start-up, warm-up, then the measured load.
    async fn measure(
        &self,
        alg: SigningAlg,
        clients: usize,
        auth: Auth,
    ) -> Result<Measurement, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let credentials = setup::prepare(dir.path(), alg, clients, auth).await?;
        let started = Instant::now();
        let server =
            server::Server::start(&self.binary, &credentials.database, &self.args.server_log)?;
        let path = "/realms/bench/protocol/openid-connect/token";
        let basic = Arc::new(load::Requests::basic(&credentials));
        // Time to the first token: poll until one is issued.
        loop {
            let outcome = load::run(
                &server.address,
                path,
                Arc::clone(&basic),
                1,
                Duration::from_secs(5),
                1,
            )
            .await;
            if outcome.ok == 1 {
                break;
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err("no token within 30 s of start".into());
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let start_to_first_token_ms = started.elapsed().as_secs_f64() * 1e3;
        let idle_rss_mb = server.rss_mb();

        let requests = match (&credentials.key, auth) {
            (Some(key), Auth::PrivateKeyJwt) => {
                let token_url = format!("http://{}{path}", server.address);
                // Enough assertions for the fastest rate seen here, each used once.
                let count =
                    20_000 * (self.warmup.as_secs() as usize + self.args.seconds as usize + 1);
                Arc::new(load::Requests::assertions(key, &token_url, count)?)
            }
            _ => basic,
        };
        let warm = load::run(
            &server.address,
            path,
            Arc::clone(&requests),
            self.args.connections,
            self.warmup,
            usize::MAX,
        )
        .await;
        let offset = usize::try_from(warm.ok + warm.failed).unwrap_or(0);
        let requests = match Arc::try_unwrap(requests) {
            // The warm-up used the first assertions; measure with the rest.
            Ok(load::Requests::Assertions(mut bodies)) => {
                bodies.drain(..offset.min(bodies.len()));
                Arc::new(load::Requests::Assertions(bodies))
            }
            Ok(other) => Arc::new(other),
            Err(shared) => shared,
        };

        let statements_before = server.statements.other.load(Ordering::Relaxed);
        let cpu_before = server.cpu_seconds();
        let outcome = load::run(
            &server.address,
            path,
            requests,
            self.args.connections,
            self.duration,
            usize::MAX,
        )
        .await;
        let cpu = server.cpu_seconds() - cpu_before;
        // Log lines arrive through a pipe; give the last ones a moment.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let statements = server.statements.other.load(Ordering::Relaxed) - statements_before;

        let mut latencies = outcome.latencies_us;
        latencies.sort_unstable();
        let percentile = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .map_or(f64::NAN, |us| f64::from(*us) / 1e3)
        };
        Ok(Measurement {
            tokens_per_second: outcome.ok as f64 / outcome.elapsed.as_secs_f64(),
            p50_ms: percentile(0.50),
            p99_ms: percentile(0.99),
            cpu_us_per_token: cpu * 1e6 / outcome.ok.max(1) as f64,
            start_to_first_token_ms,
            idle_rss_mb,
            statements,
            failed: outcome.failed + warm.failed,
        })
    }

    /// RSS idle after start, and after `memory_tokens` tokens.
    async fn memory(&self, alg: SigningAlg) -> Result<(f64, f64), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let credentials = setup::prepare(dir.path(), alg, 1, Auth::ClientSecretBasic).await?;
        let server =
            server::Server::start(&self.binary, &credentials.database, &self.args.server_log)?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle = server.rss_mb();
        let requests = Arc::new(load::Requests::basic(&credentials));
        let path = "/realms/bench/protocol/openid-connect/token";
        let outcome = load::run(
            &server.address,
            path,
            requests,
            self.args.connections,
            Duration::from_secs(600),
            self.args.memory_tokens,
        )
        .await;
        if outcome.failed > 0 {
            return Err(format!("{} token requests failed", outcome.failed));
        }
        Ok((idle, server.rss_mb()))
    }
}
