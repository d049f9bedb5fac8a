//! `certfleet dhparam`: a Diffie-Hellman group file, the RFC 7919 group of the size asked
//! for (instantly) or freshly generated parameters (`--generate`, progress on stderr).

use super::output::report_written;
use super::Outcome;
use anyhow::{bail, Result};
use certfleet_formats::dh::progress_marks::ProgressMarks;
use certfleet_formats::dh::{self, safe_prime::Event, DhParams, Group};
use certfleet_platform::files::{Mode, OutputSet};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `dhparam`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    certfleet dhparam --bits 2048 --out dhparam.pem              # RFC 7919 ffdhe2048\n  \
    certfleet dhparam --bits 3072 --generate --out dhparam.pem   # a fresh safe prime")]
pub struct DhparamArgs {
    /// Size of the prime: 2048, 3072 or 4096.
    #[arg(long, default_value_t = 2048)]
    bits: u32,
    /// Generate fresh parameters instead of using the RFC 7919 group (takes seconds to
    /// minutes; 4096 bits can take many minutes).
    #[arg(long)]
    generate: bool,
    /// Output file (PEM `DH PARAMETERS`).
    #[arg(long)]
    out: PathBuf,
}

impl DhparamArgs {
    pub fn run(self) -> Result<Outcome> {
        let Some(group) = Group::from_bits(self.bits) else {
            bail!("--bits {}: choose 2048, 3072 or 4096", self.bits);
        };
        let params = if self.generate {
            generate(self.bits)?
        } else {
            eprintln!("using the RFC 7919 group {}", group.name());
            DhParams::from(group)
        };
        let mut set = OutputSet::default();
        set.add(&self.out, params.to_pem(), Mode::Public);
        report_written(&set.commit()?);
        Ok(Outcome::Success)
    }
}

/// Generates parameters, drawing OpenSSL-style progress on stderr: `.` every 64 sieved
/// candidates tested, `+` when half of a safe prime passed, `*` when done.
fn generate(bits: u32) -> Result<DhParams> {
    eprintln!(
        "generating {bits}-bit safe-prime DH parameters, generator 2 (this can take a while)"
    );
    let started = Instant::now();
    let marks = ProgressMarks::default();
    let progress = |event: Event| {
        let Some(mark) = marks.mark(event) else {
            return;
        };
        let mut err = std::io::stderr().lock();
        // Progress is best effort; a closed stderr must not stop the generation.
        let _ = err.write_all(mark.as_bytes()).and_then(|()| err.flush());
    };
    let params = dh::generate(bits, &progress)?;
    eprintln!(
        "found after {} candidates in {:.1} s",
        marks.tested(),
        started.elapsed().as_secs_f64()
    );
    Ok(params)
}
