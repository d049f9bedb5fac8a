//! `certfleet inspect`: what a file holds. Keystores (JKS, PKCS#12) are described in
//! [`keystore`], entry by entry.

mod keystore;

use super::output::print_json;
use super::secret_arg::{SecretArg, SecretParser, ASK};
use super::Outcome;
use anyhow::{Context, Result};
use certfleet_pki::inspect::day_count::Days;
use certfleet_pki::inspect::{inspect_bytes, CertificateInfo, Inspection};
use certfleet_platform::files::read_input;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

/// Arguments of `inspect`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  certfleet inspect web.pem\n  certfleet inspect web.crt --json | jq -r '.certificates[0].sha1_thumbprint'\n  certfleet inspect server.jks --password changeit --json | jq '.entries[].alias'"
)]
pub struct InspectArgs {
    /// Certificate, chain, CSR, key, merged bundle (PEM or DER), or JKS/PKCS#12 keystore.
    file: PathBuf,
    /// Password of a keystore (JKS or PKCS#12) or an encrypted key: VALUE, pass:VALUE,
    /// env:NAME, file:PATH or - (a line of standard input); asked for when given without
    /// a value, or when a keystore's is left out on a terminal.
    #[arg(long, value_name = "SECRET", value_parser = SecretParser, num_args = 0..=1,
          default_missing_value = ASK)]
    password: Option<SecretArg>,
    /// Print one JSON document.
    #[arg(long)]
    json: bool,
}

impl InspectArgs {
    pub fn run(self) -> Result<Outcome> {
        let bytes = read_input(&self.file)?;
        let now = time::OffsetDateTime::now_utc();
        let password = self.password.as_ref().map(SecretArg::expose).transpose()?;
        if keystore::is_keystore(&bytes) {
            let asked;
            let password = match password {
                None if std::io::stdin().is_terminal() => {
                    asked = SecretArg::missing("--password");
                    Some(asked.expose()?)
                }
                given => given,
            };
            let inspection = keystore::inspect(&self.file, &bytes, password, now)?;
            if self.json {
                print_json(&inspection)?;
            } else {
                print!("{}", keystore::render_keystore(&inspection));
            }
            return Ok(Outcome::Success);
        }
        let inspection = inspect_bytes(&bytes, password, now)
            .with_context(|| self.file.display().to_string())?;
        if self.json {
            print_json(&inspection)?;
        } else {
            print!("{}", render(&inspection));
        }
        Ok(Outcome::Success)
    }
}

fn render(inspection: &Inspection) -> String {
    let mut out = format!("kind: {}\n", inspection.kind);
    for notice in &inspection.notices {
        out += &format!("notice: {notice}\n");
    }
    if let Some(key) = &inspection.key {
        out += &format!("private key: {} {} bits\n", key.key_type, key.key_bits);
    }
    if let Some(matches) = inspection.key_matches_leaf {
        out += &format!("key matches leaf: {}\n", if matches { "yes" } else { "NO" });
    }
    if let Some(csr) = &inspection.csr {
        out += &format!("subject: {}\n", csr.subject);
        match &csr.sans {
            Some(sans) => out += &format!("requested SANs: {}\n", sans.join(", ")),
            None => out += "requested SANs: none (no SAN extension; the CA chooses)\n",
        }
        out += &format!("key: {} {} bits\n", csr.key_type, csr.key_bits);
    }
    for (index, cert) in inspection.certificates.iter().enumerate() {
        out += &format!("\ncertificate {}:\n", index + 1);
        out += &render_certificate(cert);
    }
    out
}

fn render_certificate(c: &CertificateInfo) -> String {
    let list = |items: &[String]| {
        if items.is_empty() {
            "-".to_owned()
        } else {
            items.join(", ")
        }
    };
    let extensions: Vec<String> = c
        .extensions
        .iter()
        .map(|e| {
            if e.critical {
                format!("{} (critical)", e.name)
            } else {
                e.name.clone()
            }
        })
        .collect();
    format!(
        "  subject:             {}\n  issuer:              {}\n  serial:              {}\n  valid:               {} to {} ({} remaining)\n  SANs:                {}\n  key usage:           {}\n  extended key usage:  {}\n  CA:                  {}{}\n  extensions:          {}\n  key:                 {} {} bits\n  signature:           {}\n  SHA-1 thumbprint:    {}\n  SHA-256 fingerprint: {}\n",
        c.subject,
        c.issuer,
        c.serial,
        c.not_before,
        c.not_after,
        Days(c.days_remaining),
        list(&c.sans),
        list(&c.key_usage),
        list(&c.extended_key_usage),
        if c.is_ca { "yes" } else { "no" },
        c.path_len.map(|n| format!(" (path length {n})")).unwrap_or_default(),
        list(&extensions),
        c.key_type,
        c.key_bits,
        c.signature_algorithm,
        c.sha1_thumbprint,
        c.sha256_fingerprint,
    )
}
