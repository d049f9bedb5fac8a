//! Full TLS 1.3 handshakes offering one key-exchange group, for the key-exchange
//! comparison of `benches/kx.sh`: h2load's OpenSSL 3.0 cannot offer X25519MLKEM768, so
//! this rustls client opens the connections. Each connection is a full handshake (no
//! resumption), then a `GET /` whose answer is read to its end; prints how many
//! handshakes completed and which group the last one used.

use crate::tls_client::full_handshake_config;
use anyhow::{anyhow, bail, Result};
use rustls::crypto::aws_lc_rs::kx_group;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// `--connect ADDR --name HOST --ca ROOT.pem --group x25519|x25519mlkem768
/// [--count 1000] [--parallel 8]`.
pub async fn run(args: &[String]) -> Result<()> {
    let (mut connect, mut name, mut ca, mut group) = (None, None, None, None);
    let (mut count, mut parallel) = (1000usize, 8usize);
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--connect" => connect = Some(value.clone()),
            "--name" => name = Some(value.clone()),
            "--ca" => ca = Some(value.clone()),
            "--group" => group = Some(value.clone()),
            "--count" => count = value.parse()?,
            "--parallel" => parallel = value.parse()?,
            _ => bail!("unknown option {flag}"),
        }
    }
    let (Some(connect), Some(name), Some(ca), Some(group)) = (connect, name, ca, group) else {
        bail!("--connect, --name, --ca and --group are required");
    };
    let kx = match group.as_str() {
        "x25519" => kx_group::X25519,
        "x25519mlkem768" => kx_group::X25519MLKEM768,
        other => bail!("unknown group {other}: x25519 or x25519mlkem768"),
    };
    let mut config = full_handshake_config(&ca, kx)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = TlsConnector::from(Arc::new(config));
    let server_name = ServerName::try_from(name.clone())?;
    let request = Arc::new(format!(
        "GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n"
    ));
    let mut workers = Vec::new();
    for worker in 0..parallel {
        let share = count / parallel + usize::from(worker < count % parallel);
        let (connector, server_name, request, connect) = (
            connector.clone(),
            server_name.clone(),
            request.clone(),
            connect.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut last_group = None;
            for _ in 0..share {
                let tcp = TcpStream::connect(&connect).await?;
                tcp.set_nodelay(true)?;
                let mut tls = connector.connect(server_name.clone(), tcp).await?;
                last_group = tls
                    .get_ref()
                    .1
                    .negotiated_key_exchange_group()
                    .map(|g| format!("{:?}", g.name()));
                tls.write_all(request.as_bytes()).await?;
                let mut answer = Vec::new();
                // The server closes after answering (Connection: close); a close without
                // TLS close_notify still ends the answer.
                let _ = tls.read_to_end(&mut answer).await;
                if !answer.starts_with(b"HTTP/1.1 ") {
                    bail!("no HTTP answer after the handshake");
                }
            }
            Ok::<_, anyhow::Error>((share, last_group))
        }));
    }
    let (mut done, mut used) = (0, None);
    for worker in workers {
        let (n, group) = worker.await??;
        done += n;
        used = used.or(group);
    }
    println!("handshakes {done} group {}", used.unwrap_or_default());
    Ok(())
}
