//! The TLS clients of the bench (rustls, TLS 1.3, X25519 only, no resumption), each
//! handshake verified against the bench root for the name it asked for, so a name passes
//! only when the server presents that name's own leaf (every leaf covers its name alone):
//!
//! - `wait`: handshakes with a sample of names (the first, the last and random ones)
//!   until each has passed once, trying again every few milliseconds, up to `--timeout`
//!   seconds; prints the seconds it took, or since `--since-ns` (when the server was
//!   started);
//! - `check`: one handshake per name (all, or `--sample`), 8 at a time; prints how many
//!   passed and fails naming the first that did not;
//! - `rate`: `--handshakes` full handshakes, `--parallel` at a time, the SNI name moving
//!   over all names from a random start; prints the count and the wall-clock seconds.

use crate::fleet::name;
use crate::tls_client::full_handshake_config;
use anyhow::{anyhow, bail, Result};
use rustls::crypto::aws_lc_rs::kx_group;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The options of `wait`, `check` and `rate`.
pub struct Settings {
    connect: String,
    ca: String,
    count: usize,
    sample: usize,
    handshakes: usize,
    parallel: usize,
    timeout: Duration,
    /// When the server was started (Unix nanoseconds), for `wait`'s answer.
    since_ns: Option<u128>,
}

impl Settings {
    /// `--connect ADDR --ca ROOT.pem --count N [--sample K] [--handshakes C]
    /// [--parallel P] [--timeout SECONDS] [--since-ns UNIX_NANOSECONDS]`.
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut settings = Settings {
            connect: String::new(),
            ca: String::new(),
            count: 0,
            sample: 0,
            handshakes: 2000,
            parallel: 8,
            timeout: Duration::from_secs(600),
            since_ns: None,
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
            match flag.as_str() {
                "--connect" => settings.connect = value.clone(),
                "--ca" => settings.ca = value.clone(),
                "--count" => settings.count = value.parse()?,
                "--sample" => settings.sample = value.parse()?,
                "--handshakes" => settings.handshakes = value.parse()?,
                "--parallel" => settings.parallel = value.parse::<usize>()?.max(1),
                "--timeout" => settings.timeout = Duration::from_secs(value.parse()?),
                "--since-ns" => settings.since_ns = Some(value.parse()?),
                _ => bail!("unknown option {flag}"),
            }
        }
        if settings.connect.is_empty() || settings.ca.is_empty() || settings.count == 0 {
            bail!("--connect, --ca and --count are required");
        }
        Ok(settings)
    }
}

/// Runs `command` (`wait`, `check` or `rate`).
pub async fn run(command: &str, settings: Settings) -> Result<()> {
    let client = Client::new(&settings)?;
    let started = Instant::now();
    match command {
        "wait" => {
            let mut pending = sample(settings.count, settings.sample);
            while !pending.is_empty() {
                if started.elapsed() > settings.timeout {
                    bail!(
                        "{} of the sampled names never presented their own leaf, e.g. {}",
                        pending.len(),
                        pending[0]
                    );
                }
                let mut still = Vec::new();
                for name in pending {
                    if client.handshake(&name).await.is_err() {
                        still.push(name);
                    }
                }
                pending = still;
                if !pending.is_empty() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            let seconds = match settings.since_ns {
                Some(since) => {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)?
                        .as_nanos();
                    now.saturating_sub(since) as f64 / 1e9
                }
                None => started.elapsed().as_secs_f64(),
            };
            println!("ready {seconds:.3}");
        }
        "check" => {
            let names = Arc::new(sample(settings.count, settings.sample));
            let results = client
                .spread(names.len(), settings.parallel, 0, names.clone())
                .await;
            let passed = results.iter().filter(|r| r.is_ok()).count();
            println!("checked {} passed {passed}", results.len());
            if let Some((i, Err(err))) = results.iter().enumerate().find(|(_, r)| r.is_err()) {
                bail!("{} did not present its own leaf: {err:#}", names[i]);
            }
        }
        "rate" => {
            let names = Arc::new((1..=settings.count).map(name).collect::<Vec<_>>());
            let start = random_below(settings.count);
            let results = client
                .spread(settings.handshakes, settings.parallel, start, names)
                .await;
            let seconds = started.elapsed().as_secs_f64();
            if let Some(Err(err)) = results.iter().find(|r| r.is_err()) {
                bail!("a handshake failed: {err:#}");
            }
            println!("handshakes {} seconds {seconds:.3}", results.len());
        }
        other => bail!("unknown command {other}"),
    }
    Ok(())
}

/// A verifying TLS 1.3 client.
#[derive(Clone)]
struct Client {
    connector: TlsConnector,
    connect: Arc<str>,
}

impl Client {
    fn new(settings: &Settings) -> Result<Self> {
        let config = full_handshake_config(&settings.ca, kx_group::X25519)?;
        Ok(Client {
            connector: TlsConnector::from(Arc::new(config)),
            connect: settings.connect.as_str().into(),
        })
    }

    /// One full handshake naming `name`, verified for it, then a close.
    async fn handshake(&self, name: &str) -> Result<()> {
        let tcp = TcpStream::connect(&*self.connect).await?;
        tcp.set_nodelay(true)?;
        let server_name = ServerName::try_from(name.to_owned())?;
        let mut tls = self.connector.connect(server_name, tcp).await?;
        let _ = tls.shutdown().await;
        Ok(())
    }

    /// `total` handshakes, `parallel` at a time; handshake `k` names
    /// `names[(start + k) % len]`. Results in handshake order.
    async fn spread(
        &self,
        total: usize,
        parallel: usize,
        start: usize,
        names: Arc<Vec<String>>,
    ) -> Vec<Result<()>> {
        let mut workers = Vec::new();
        for worker in 0..parallel {
            let (client, names) = (self.clone(), names.clone());
            workers.push(tokio::spawn(async move {
                let mut out = Vec::new();
                for k in (worker..total).step_by(parallel) {
                    let name = &names[(start + k) % names.len()];
                    out.push((k, client.handshake(name).await));
                }
                out
            }));
        }
        let mut results: Vec<(usize, Result<()>)> = Vec::with_capacity(total);
        for worker in workers {
            match worker.await {
                Ok(done) => results.extend(done),
                Err(err) => results.push((usize::MAX, Err(anyhow!("a worker failed: {err}")))),
            }
        }
        results.sort_by_key(|(k, _)| *k);
        results.into_iter().map(|(_, r)| r).collect()
    }
}

/// All names when `sample` is 0 or covers them; else the first, the last and random
/// others, `sample` in all.
fn sample(count: usize, sample: usize) -> Vec<String> {
    if sample == 0 || sample >= count {
        return (1..=count).map(name).collect();
    }
    let mut picked = vec![1, count];
    while picked.len() < sample {
        let i = 1 + random_below(count);
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    picked.into_iter().map(name).collect()
}

/// A number below `n` from the system's random source (0 when it fails).
fn random_below(n: usize) -> usize {
    let mut bytes = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        return 0;
    }
    (u64::from_le_bytes(bytes) % n.max(1) as u64) as usize
}
