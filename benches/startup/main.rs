//! The helpers of `benches/startup.sh`, in one binary:
//!
//! - `generate DIR COUNT`: a CA and COUNT ECDSA P-256 leaves `dNNNNN.bench.test`, one
//!   PEM file per name (leaf, intermediate, key) that HAProxy and nginx read, plus the
//!   CA's root for clients ([`fleet`]);
//! - `seed-embedded DATA_DIR DIR COUNT` and `seed-etcd DATA_DIR DIR COUNT ENDPOINTS`:
//!   the same certificates as certfleet's domain records (a master `bench.test` and one
//!   child per name with its sealed bundle), written through the library before `serve`
//!   starts ([`seed`]);
//! - `wait`, `check` and `rate`: TLS clients that wait until sampled names present their
//!   own leaf, check many names, and count full handshakes spread over the names
//!   ([`probe`]).
//!
//! Built by the script with `cargo build --release -p certfleet --bench startup`.

mod fleet;
mod probe;
mod seed;
#[path = "../common/tls_client.rs"]
mod tls_client;

use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let arg = |i: usize| -> Result<&str> {
        args.get(i)
            .map(String::as_str)
            .with_context(|| format!("argument {i} is missing"))
    };
    match args.first().map(String::as_str) {
        Some("generate") => fleet::generate(arg(1)?.as_ref(), arg(2)?.parse()?),
        Some("seed-embedded") => runtime.block_on(seed::embedded(
            arg(1)?.as_ref(),
            arg(2)?.as_ref(),
            arg(3)?.parse()?,
        )),
        Some("seed-etcd") => runtime.block_on(seed::etcd(
            arg(1)?.as_ref(),
            arg(2)?.as_ref(),
            arg(3)?.parse()?,
            arg(4)?,
        )),
        Some("wait" | "check" | "rate") => {
            let settings = probe::Settings::parse(&args[1..])?;
            runtime.block_on(probe::run(arg(0)?, settings))
        }
        // `cargo bench` runs every bench target with `--bench`: nothing to do here.
        Some("--bench") | None => Ok(()),
        Some(other) => bail!(
            "unknown command '{other}': generate, seed-embedded, seed-etcd, wait, check or rate"
        ),
    }
}
