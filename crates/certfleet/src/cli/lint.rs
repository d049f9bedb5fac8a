//! `certfleet lint`: the mistakes that break handshakes, each with a fix.

use super::output::print_answer;
use super::Outcome;
use anyhow::Result;
use certfleet_pki::lint::{has_errors, lint, LintInput, LintReport};
use certfleet_platform::lint_input::{peer_key_rule, read_lint_file};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `lint`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  certfleet lint web.pem --host web.example.test\n  certfleet lint chain.crt --json\n  certfleet lint tomcat.pem --peer uccx\n\nExit status: 0 no error found, 1 at least one error finding, 2 bad input."
)]
pub struct LintArgs {
    /// Certificate, chain or merged bundle (key, leaf, chain) in PEM or DER.
    file: PathBuf,
    /// A host name or IP address the leaf must cover (SANs only).
    #[arg(long)]
    host: Option<String>,
    /// Warn about certificates expiring within this many days.
    #[arg(long, default_value_t = certfleet_pki::lint::DEFAULT_WARN_DAYS)]
    warn_days: u32,
    /// The kind of peer that will load the certificate (a service `kind` of the
    /// platform model that takes only some keys, such as `uccx`): a key it does not take
    /// is an error (`peer-key-refused`).
    #[arg(long, value_name = "KIND")]
    peer: Option<String>,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

impl LintArgs {
    pub fn run(self) -> Result<Outcome> {
        let peer = self.peer.as_deref().map(peer_key_rule).transpose()?;
        let name = self.file.display().to_string();
        let (certificates, key) = read_lint_file(&self.file)?;
        let mut input = LintInput::new(certificates);
        input.key = key.as_ref();
        input.host = self.host;
        input.warn_days = self.warn_days;
        input.peer = peer;
        // Roots that fail to load only make a leaf look private: its lifetime is then
        // judged by the milder private rule, which is no reason to refuse the lint.
        input.system_roots = rustls_native_certs::load_native_certs().certs;
        let findings = lint(&input);
        let report = LintReport {
            file: &name,
            findings: &findings,
        };
        print_answer(self.json, &report, || report.to_text())?;
        Ok(if has_errors(&findings) {
            Outcome::ProblemFound
        } else {
            Outcome::Success
        })
    }
}
