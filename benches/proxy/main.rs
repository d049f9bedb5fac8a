//! The helpers of `benches/proxy.sh`, in one binary with two commands:
//!
//! - `upstream ADDR [CERT KEY]`: the upstream every proxy forwards to ([`upstream`]): a
//!   short text answer on every path, 1 MiB on `/1m`, and a WebSocket echo on `/ws`;
//!   over TLS with the PEM certificate chain CERT and key KEY when given;
//! - `websocket ...`: the WebSocket client that sends messages through a proxy and
//!   prints their round-trip percentiles ([`websocket`]);
//! - `key-exchange ...`: full TLS 1.3 handshakes offering one key-exchange group, for
//!   `benches/kx.sh` ([`key_exchange`]).
//!
//! Built by the scripts with `cargo build --release -p certfleet --bench proxy`.

mod key_exchange;
#[path = "../common/tls_client.rs"]
mod tls_client;
mod upstream;
mod websocket;

use anyhow::{bail, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("upstream") => {
            let tls = match &args[1..] {
                [_] => None,
                [_, cert, key] => Some(upstream::tls_acceptor(cert, key)?),
                _ => bail!("usage: proxy upstream ADDR [CERT KEY]"),
            };
            runtime.block_on(upstream::serve(&args[1], tls))
        }
        Some("websocket") => {
            let settings = websocket::Settings::parse(&args[1..])?;
            runtime.block_on(websocket::run(settings))
        }
        Some("key-exchange") => runtime.block_on(key_exchange::run(&args[1..])),
        // `cargo bench` runs every bench target with `--bench`: nothing to do here.
        Some("--bench") | None => Ok(()),
        Some(other) => bail!("unknown command '{other}': upstream, websocket or key-exchange"),
    }
}
