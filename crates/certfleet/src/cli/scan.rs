//! `certfleet scan TARGET...`: connect to each `HOST:PORT[/SNI]`, record the chain it
//! presents and judge it (chain validity against `--trust` or the system roots, by the
//! `webpki` profile for the system roots and `rfc5280` for a trust file unless
//! `--profile` says otherwise,
//! hostname match, expiry state, lint findings), compare the deployed certificate with
//! the one the running server manages for the name (drift), and record the results in
//! that server. A progress bar on standard error when it is a terminal; `--json` prints
//! `{"results": [...]}`.
//!
//! Exit status: 0 when every target is fine, 1 when any is unreachable, expired, has an
//! invalid chain or a hostname mismatch, or drifted; 2 for bad usage (a bad target is
//! named).

mod managed;

use super::client::ServerFlags;
use super::output::print_answer;
use super::secret_arg::{SecretArg, SecretParser, ASK};
use super::Outcome;
use anyhow::{Context, Result};
use certfleet_monitor::scan::{default_profile, ScanOptions, ScanResult, Scanner, Target};
use certfleet_server::routes::trust_file::trust_anchors;
use clap::Args;
use serde::Serialize;
use std::io::IsTerminal;
use std::time::Duration;

/// Arguments of `scan`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  certfleet scan web.example.test:443 10.0.0.5:8443/app.example.test '[::1]:9443'\n  certfleet scan 127.0.0.1:8443/app.example.test --trust ca/root.crt --json\n\nTARGET is HOST:PORT or HOST:PORT/SNI (IPv6 addresses in brackets). Without /SNI the\nhost is sent as SNI when it is a name; an IP address is matched against IP SANs.\n\nChains are judged against the system roots with the webpki profile (what public CAs may\nissue, as browsers hold them to it), against --trust FILE with rfc5280; --profile\nchooses.\n\nWhen the server given by --server/--data-dir answers, each SNI name is compared with\nthe certificate it manages for that name (drift) and the results are recorded there\n(GET /api/scans); otherwise one warning is printed and the scan goes on.\n\nExit status: 0 all fine, 1 a target is unreachable, expired, invalid (chain or\nhostname) or drifted, 2 bad usage."
)]
pub struct ScanArgs {
    /// Endpoints to scan: HOST:PORT or HOST:PORT/SNI.
    #[arg(required = true, value_name = "TARGET")]
    targets: Vec<String>,
    /// Trust store for chain validity: a PEM bundle, DER certificate, JKS or PKCS#12
    /// file, or `system` (the default) for the system roots.
    #[arg(long, value_name = "FILE")]
    trust: Option<String>,
    /// Password of a JKS or PKCS#12 trust store: VALUE, pass:VALUE, env:NAME, file:PATH
    /// or - (a line of standard input); asked for when given without a value.
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK)]
    password: Option<SecretArg>,
    /// Rules chains are judged by: webpki (RFC 5280 and the CA/Browser Forum Baseline
    /// Requirements) or rfc5280. Default: webpki with the system roots, rfc5280 with a
    /// trust file (a platform's own CA).
    #[arg(long, value_parser = ["rfc5280", "webpki"])]
    profile: Option<String>,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
    /// Seconds allowed for connect and handshake of one target.
    #[arg(long, value_name = "SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    timeout: u64,
    /// Targets scanned at once.
    #[arg(long, value_name = "N", default_value_t = certfleet_monitor::scan::DEFAULT_CONCURRENCY,
          value_parser = parse_concurrency)]
    concurrency: usize,
    /// Certificates expiring within this many days are in the `warning` state (default:
    /// the server's `[monitor]` warn_days when it answers, else 14).
    #[arg(long, value_name = "N")]
    warn_days: Option<u32>,
    #[command(flatten)]
    server: ServerFlags,
}

fn parse_concurrency(text: &str) -> std::result::Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=10_000).contains(&n) => Ok(n),
        _ => Err(format!("'{text}' is not a number from 1 to 10000")),
    }
}

impl ScanArgs {
    /// Scans, compares with the server, records, prints.
    pub fn run(self) -> Result<Outcome> {
        let targets = self
            .targets
            .iter()
            .map(|text| Target::parse(text))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let trust_anchors = trust_anchors(
            self.trust.as_deref(),
            self.password.as_ref().map(SecretArg::expose).transpose()?,
            "--trust FILE",
        )?;
        let profile = match &self.profile {
            Some(word) => word.parse()?,
            None => default_profile(self.trust.as_deref()),
        };
        let options = ScanOptions {
            timeout: Duration::from_secs(self.timeout),
            concurrency: self.concurrency,
            warn_days: self
                .warn_days
                .or_else(|| managed::server_warn_days(&self.server))
                .unwrap_or(certfleet_pki::lint::DEFAULT_WARN_DAYS),
            profile,
        };
        let scanner = Scanner::new(&options, trust_anchors)?;
        let mut results = scan(&scanner, &targets)?;

        if let Some(client) = managed::compare(&mut results, &self.server) {
            managed::record(&client, &results);
        }

        print_answer(self.json, &Report { results: &results }, || {
            certfleet_monitor::scan::table::render(&results)
        })?;
        if results.iter().any(ScanResult::has_problem) {
            Ok(Outcome::ProblemFound)
        } else {
            Ok(Outcome::Success)
        }
    }
}

/// `scan --json`'s document; fields in the order of [`ScanResult`].
#[derive(Serialize)]
struct Report<'a> {
    results: &'a [ScanResult],
}

/// Runs the scan on a multi-threaded runtime, with a progress bar on a terminal.
fn scan(scanner: &Scanner, targets: &[Target]) -> Result<Vec<ScanResult>> {
    let bar = std::io::stderr()
        .is_terminal()
        .then(|| progress_bar(targets.len()));
    let results = scanner
        .scan_all_blocking(targets, |_| {
            if let Some(bar) = &bar {
                bar.inc(1);
            }
        })
        .context("starting the async runtime")?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(results)
}

fn progress_bar(len: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    // The template is a constant; should it ever be refused, the default style stays.
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "scanning [{bar:30}] {pos}/{len} targets ({elapsed} elapsed, {eta} left)",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}
