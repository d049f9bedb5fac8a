//! The WebSocket client of the proxy benchmark: opens connections over TLS through a
//! proxy to the upstream's `/ws`, sends binary messages one at a time on each (all
//! connections at once) and times each until its echo is back. The upstream echoes
//! bytes as they come, so a message comes back as the masked frame that was sent; the
//! proxies relay the upgraded connection without reading frames, so that is the same
//! work for them as a real echo. Prints one line: messages, failures and the
//! round-trip percentiles in microseconds.

use anyhow::{anyhow, bail, Context, Result};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// What to run, from the command line.
pub struct Settings {
    connect: String,
    name: String,
    ca: String,
    connections: usize,
    messages: usize,
    size: usize,
}

impl Settings {
    /// `--connect ADDR --name HOST --ca ROOT.pem [--connections 10] [--messages 1000]
    /// [--size 64]`.
    pub fn parse(args: &[String]) -> Result<Settings> {
        let mut settings = Settings {
            connect: String::new(),
            name: String::new(),
            ca: String::new(),
            connections: 10,
            messages: 1000,
            size: 64,
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value = args.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
            match flag.as_str() {
                "--connect" => settings.connect = value.clone(),
                "--name" => settings.name = value.clone(),
                "--ca" => settings.ca = value.clone(),
                "--connections" => settings.connections = value.parse()?,
                "--messages" => settings.messages = value.parse()?,
                "--size" => settings.size = value.parse()?,
                _ => bail!("unknown option {flag}"),
            }
        }
        if settings.connect.is_empty() || settings.name.is_empty() || settings.ca.is_empty() {
            bail!("--connect, --name and --ca are required");
        }
        if settings.size > 65_535 {
            bail!("--size must be at most 65535");
        }
        Ok(settings)
    }
}

/// Runs every connection and prints
/// `messages N failed F p50_us A p99_us B p999_us C wall_s W`.
pub async fn run(settings: Settings) -> Result<()> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&settings.ca)
        .with_context(|| format!("reading {}", settings.ca))?
    {
        roots.add(cert?)?;
    }
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = TlsConnector::from(Arc::new(config));
    let settings = Arc::new(settings);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for index in 0..settings.connections {
        let (connector, settings) = (connector.clone(), settings.clone());
        tasks.push(tokio::spawn(async move {
            one_connection(&connector, &settings, index).await
        }));
    }
    let mut rounds = Vec::new();
    let mut failed = 0;
    for task in tasks {
        match task.await? {
            Ok(times) => rounds.extend(times),
            Err(err) => {
                eprintln!("websocket: {err:#}");
                failed += 1;
            }
        }
    }
    let wall = started.elapsed().as_secs_f64();
    rounds.sort_unstable();
    let at = |q: f64| -> u128 {
        if rounds.is_empty() {
            return 0;
        }
        let index = ((rounds.len() as f64 * q).ceil() as usize).clamp(1, rounds.len()) - 1;
        rounds[index]
    };
    println!(
        "messages {} failed {} p50_us {} p99_us {} p999_us {} wall_s {:.3}",
        rounds.len(),
        failed,
        at(0.50),
        at(0.99),
        at(0.999),
        wall
    );
    Ok(())
}

/// One connection: the upgrade, then every message; the round trips in microseconds.
async fn one_connection(
    connector: &TlsConnector,
    settings: &Settings,
    index: usize,
) -> Result<Vec<u128>> {
    let tcp = TcpStream::connect(&settings.connect).await?;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from(settings.name.clone())?;
    let mut tls = connector.connect(name, tcp).await?;
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: Y2VydGZsZWV0IGJlbmNoIQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        settings.name
    );
    tls.write_all(request.as_bytes()).await?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tls.read(&mut byte).await? == 0 {
            bail!("connection {index}: closed during the upgrade");
        }
        head.push(byte[0]);
    }
    if !head.starts_with(b"HTTP/1.1 101") {
        let line = String::from_utf8_lossy(&head);
        bail!(
            "connection {index}: no upgrade: {}",
            line.lines().next().unwrap_or("")
        );
    }
    let frame = masked_frame(settings.size, index as u32);
    let mut echo = vec![0u8; frame.len()];
    let mut times = Vec::with_capacity(settings.messages);
    for _ in 0..settings.messages {
        let sent = Instant::now();
        tls.write_all(&frame).await?;
        tls.read_exact(&mut echo).await?;
        times.push(sent.elapsed().as_micros());
        if echo != frame {
            bail!("connection {index}: the echo differs from the message");
        }
    }
    Ok(times)
}

/// A final binary frame of `size` bytes from a client (masked, RFC 6455 section 5.2).
fn masked_frame(size: usize, mask_seed: u32) -> Vec<u8> {
    let mask = mask_seed.wrapping_mul(2_654_435_761).to_be_bytes();
    let mut frame = vec![0x82];
    if size < 126 {
        frame.push(0x80 | size as u8);
    } else {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&(size as u16).to_be_bytes());
    }
    frame.extend_from_slice(&mask);
    frame.extend((0..size).map(|i| (i as u8) ^ mask[i % 4]));
    frame
}
