//! The load generator: N keep-alive HTTP/1.1 connections, each sending token requests back to
//! back for a fixed time.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use aws_lc_rs::signature::Ed25519KeyPair;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use http_body_util::{BodyExt, Full};
use hyper::{Request, body::Bytes};
use hyper_util::rt::TokioIo;

use crate::setup::{ClientKey, Credentials};

/// How each request authenticates.
pub enum Requests {
    /// client_secret_basic, cycling through the clients.
    Basic(Vec<String>),
    /// private_key_jwt: pre-made bodies, each with a fresh assertion (used once).
    Assertions(Vec<Bytes>),
}

const CLIENT_CREDENTIALS: &[u8] = b"grant_type=client_credentials";

impl Requests {
    pub fn basic(credentials: &Credentials) -> Self {
        Requests::Basic(credentials.basic_headers.clone())
    }

    /// `count` assertions for `svc0` aimed at `token_url`, signed before the run so their cost
    /// is not the server's.
    pub fn assertions(key: &ClientKey, token_url: &str, count: usize) -> Result<Self, String> {
        let pair = Ed25519KeyPair::from_pkcs8(&key.pkcs8).map_err(|e| e.to_string())?;
        let header = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"alg":"EdDSA","typ":"JWT","kid":"{}"}}"#,
            key.kid
        ));
        // Within the server's limit on how far ahead an assertion may expire.
        let exp = tessera::clock::Clock::now(&tessera::clock::SystemClock) + 300;
        let bodies = (0..count)
            .map(|n| {
                let claims = format!(
                    r#"{{"iss":"svc0","sub":"svc0","aud":"{token_url}","exp":{exp},"jti":"bench-{n}"}}"#
                );
                let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
                let signature = URL_SAFE_NO_PAD.encode(pair.sign(input.as_bytes()));
                Bytes::from(format!(
                    "grant_type=client_credentials&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={input}.{signature}"
                ))
            })
            .collect();
        Ok(Requests::Assertions(bodies))
    }

    fn build(&self, n: usize, host: &str, path: &str) -> Option<Request<Full<Bytes>>> {
        let builder = Request::post(path)
            .header("host", host)
            .header("content-type", "application/x-www-form-urlencoded");
        let request = match self {
            Requests::Basic(headers) => builder
                .header("authorization", &headers[n % headers.len()])
                .body(Full::new(Bytes::from_static(CLIENT_CREDENTIALS))),
            Requests::Assertions(bodies) => builder.body(Full::new(bodies.get(n)?.clone())),
        };
        request.ok()
    }
}

/// What a run saw.
#[derive(Default)]
pub struct Outcome {
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
    /// Latency of each successful request, in microseconds.
    pub latencies_us: Vec<u32>,
}

/// Sends token requests from `connections` connections for `duration` (or until `limit`
/// requests have been sent).
pub async fn run(
    address: &str,
    path: &str,
    requests: Arc<Requests>,
    connections: usize,
    duration: Duration,
    limit: usize,
) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (address, path) = (address.to_owned(), path.to_owned());
            let (requests, next) = (Arc::clone(&requests), Arc::clone(&next));
            tokio::spawn(async move {
                connection(&address, &path, &requests, &next, deadline, limit).await
            })
        })
        .collect();
    let mut outcome = Outcome::default();
    for task in tasks {
        if let Ok(part) = task.await {
            outcome.ok += part.ok;
            outcome.failed += part.failed;
            outcome.latencies_us.extend(part.latencies_us);
        }
    }
    outcome.elapsed = start.elapsed();
    outcome
}

async fn connection(
    address: &str,
    path: &str,
    requests: &Requests,
    next: &AtomicUsize,
    deadline: Instant,
    limit: usize,
) -> Outcome {
    let mut outcome = Outcome::default();
    let Ok(stream) = tokio::net::TcpStream::connect(address).await else {
        outcome.failed += 1;
        return outcome;
    };
    let _ = stream.set_nodelay(true);
    let Ok((mut sender, conn)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    else {
        outcome.failed += 1;
        return outcome;
    };
    tokio::spawn(conn);
    while Instant::now() < deadline {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= limit {
            break;
        }
        let Some(request) = requests.build(n, address, path) else {
            break;
        };
        let sent = Instant::now();
        let Ok(response) = sender.send_request(request).await else {
            outcome.failed += 1;
            break;
        };
        let status = response.status();
        let complete = response.into_body().collect().await.is_ok();
        if status == 200 && complete {
            outcome.ok += 1;
            let micros = sent.elapsed().as_micros();
            outcome
                .latencies_us
                .push(u32::try_from(micros).unwrap_or(u32::MAX));
        } else {
            outcome.failed += 1;
        }
    }
    outcome
}
