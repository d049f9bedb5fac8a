//! `certfleet verify`: build and check a certificate's chain to a trust store, or run an
//! x509-limbo suite through the same verifier.

use super::output::{print_answer, print_json};
use super::secret_arg::{SecretArg, SecretParser, ASK};
use super::Outcome;
use anyhow::{bail, Context, Result};
use certfleet_pki::inspect::leaf_first;
use certfleet_pki::verify::{run_limbo, verify, Profile, Purpose, VerifyRequest};
use certfleet_platform::files::read_input;
use certfleet_platform::pki_files::read_certificates;
use certfleet_server::routes::trust_file::trust_anchors;
use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Arguments of `verify`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  certfleet verify web.crt --trust ca/root.crt --chain web.chain.crt --host web.example.test\n  certfleet verify client.crt --trust clients-ca.pem --purpose client --at 2027-01-01T00:00:00Z\n  certfleet verify site.crt --chain site.chain.crt --host www.example.com --profile webpki\n  certfleet verify --limbo limbo.json --profile webpki > results.json\n\nProfiles: rfc5280 (the default) checks the chain as RFC 5280 path validation does, right\nfor a platform's own CA. webpki adds the CA/Browser Forum Baseline Requirements that\nbrowsers hold publicly trusted certificates to: the common name among the SANs, an\nextended key usage with serverAuth (no anyExtendedKeyUsage, not critical) on the leaf and\nnone on the root, no wildcard directly under a public suffix (*.com, *.co.uk), RSA keys of\n2048 bits or more (divisible by 8) and P-256/P-384/P-521 curves, the BR signature\nalgorithms only, key identifiers, serial numbers and the longest validity period allowed.\n\nExit status: 0 valid, 1 not valid (with the reason), 2 bad input."
)]
pub struct VerifyArgs {
    /// The certificate to verify (further certificates in the file are used as intermediates).
    #[arg(required_unless_present = "limbo")]
    cert: Option<PathBuf>,
    /// Trust store: a PEM bundle or DER certificate, or `system` for the system roots.
    #[arg(long, default_value = "system")]
    trust: String,
    /// Untrusted intermediates that may help build the chain.
    #[arg(long)]
    chain: Option<PathBuf>,
    /// Password of a JKS or PKCS#12 trust store: VALUE, pass:VALUE, env:NAME, file:PATH
    /// or - (a line of standard input); asked for when given without a value.
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK)]
    password: Option<SecretArg>,
    /// Host name or IP address the certificate must be valid for (SANs only).
    #[arg(long)]
    host: Option<String>,
    /// server or client.
    #[arg(long, default_value = "server")]
    purpose: String,
    /// Check validity at this time (RFC 3339) instead of now.
    #[arg(long)]
    at: Option<String>,
    /// Rules to judge the chain by: rfc5280 (RFC 5280 path validation) or webpki (also the
    /// CA/Browser Forum Baseline Requirements, for certificates from public CAs).
    #[arg(long, default_value = "rfc5280", value_parser = ["rfc5280", "webpki"])]
    profile: String,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
    /// Run an x509-limbo suite file (`-` for stdin; plain or xz-compressed JSON) and print the harness results.
    #[arg(long, conflicts_with_all = ["cert", "chain", "host", "at"])]
    limbo: Option<String>,
}

impl VerifyArgs {
    pub fn run(self) -> Result<Outcome> {
        let profile: Profile = self.profile.parse()?;
        if let Some(suite) = &self.limbo {
            return run_limbo_file(suite, profile);
        }
        let Some(cert_path) = &self.cert else {
            bail!("give the certificate to verify, or --limbo FILE");
        };
        let purpose: Purpose = self.purpose.parse()?;
        let at = match &self.at {
            Some(text) => OffsetDateTime::parse(text, &Rfc3339).with_context(|| {
                format!("--at '{text}': not an RFC 3339 time such as 2027-01-01T00:00:00Z")
            })?,
            None => OffsetDateTime::now_utc(),
        };
        let mut presented = leaf_first(read_certificates(cert_path)?, None);
        let leaf = presented.remove(0);
        let mut intermediates = presented;
        if let Some(chain) = &self.chain {
            intermediates.extend(read_certificates(chain)?);
        }
        let anchors = trust_anchors(
            Some(&self.trust),
            self.password.as_ref().map(SecretArg::expose).transpose()?,
            "a trust file",
        )?;
        let mut request = VerifyRequest::new(&leaf, &anchors);
        request.intermediates = &intermediates;
        request.at = at;
        request.purpose = purpose;
        request.host = self.host.as_deref();
        request.profile = profile;
        let name = cert_path.display().to_string();
        match verify(&request) {
            Ok(chain) => {
                print_answer(self.json, &chain.to_json(), || chain.to_text(&name))?;
                Ok(Outcome::Success)
            }
            Err(failure) if failure.code.is_usage_error() => {
                bail!("{}: {}", self.trust, failure.reason)
            }
            Err(failure) => {
                print_answer(self.json, &failure.to_json(), || failure.to_text(&name))?;
                Ok(Outcome::ProblemFound)
            }
        }
    }
}

fn run_limbo_file(suite: &str, profile: Profile) -> Result<Outcome> {
    let raw = if suite == "-" {
        let mut buffer = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buffer)
            .context("reading the limbo suite from stdin")?;
        buffer
    } else {
        read_input(Path::new(suite))?
    };
    let json = if raw.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0x00]) {
        let mut plain = Vec::new();
        xz2::read::XzDecoder::new(raw.as_slice())
            .read_to_end(&mut plain)
            .with_context(|| format!("{suite}: not a valid xz stream"))?;
        plain
    } else {
        raw
    };
    let results = run_limbo(&json, profile).with_context(|| suite.to_owned())?;
    print_json(&results)?;
    Ok(Outcome::Success)
}
