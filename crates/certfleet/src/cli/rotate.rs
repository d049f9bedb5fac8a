//! `certfleet rotate ca` and `certfleet rotate keys`: start (or roll back) a CA or key
//! rotation of a platform model, offline; [`certfleet_platform::rotation`] does the work
//! and each following apply carries out one phase. This module holds the flags and prints.

use super::output::print_json;
use super::platform::ModelArgs;
use super::Outcome;
use anyhow::Result;
use certfleet_api::admin::plan_apply::RotationJson;
use certfleet_platform::rotation::report::{rotation_text, PHASES_HELP};
use certfleet_platform::rotation::start::{self, CaRotation, KeysRotation};
use certfleet_platform::run::Target;
use clap::{Args, Subcommand};

/// `certfleet rotate`.
#[derive(Debug, Subcommand)]
pub enum RotateCommand {
    /// Start a rotation of the platform's internal CA (a new root, or a new
    /// intermediate), or roll one back.
    #[command(after_help = format!("Example:\n  certfleet rotate ca --model platform.toml --root /tmp/stage\n  certfleet plan --model platform.toml --root /tmp/stage\n  certfleet apply --model platform.toml --root /tmp/stage --reload   (three times)\n\nMakes the new CA in the CA directory's next/ and the record STATE/rotation.json;\nno output changes until apply.\n\n{PHASES_HELP}\n\n--intermediate makes a new issuing intermediate under the existing root.\n--cross-sign also signs the new intermediate with the old root (next/cross.crt):\ncertificates of phase 2 carry that copy, so peers still trusting only the old\nroot accept them; plan names the services whose trust certfleet cannot update."))]
    Ca(CaArgs),
    /// Start a key rotation: new keys and certificates for the internal CA's services
    /// and the self-signed ones, or roll one back.
    #[command(after_help = format!("Example:\n  certfleet rotate keys --model platform.toml --service web\n\n{PHASES_HELP}\n\nThe CA stays; the new keys are made in phase 2. --now ignores maintenance\nwindows (agents only: the offline apply has none) and is recorded."))]
    Keys(KeysArgs),
}

/// `certfleet rotate ca`.
#[derive(Debug, Args)]
pub struct CaArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// A new intermediate under the existing root, instead of a new root.
    #[arg(long, conflicts_with = "cross_sign")]
    intermediate: bool,
    /// Also sign the new intermediate with the old root.
    #[arg(long)]
    cross_sign: bool,
    /// Roll back the running rotation (in phase 1 or 2).
    #[arg(long, conflicts_with_all = ["intermediate", "cross_sign"])]
    rollback: bool,
}

/// `certfleet rotate keys`.
#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(flatten)]
    model: ModelArgs,
    /// Only this service (repeatable).
    #[arg(long, value_name = "NAME")]
    service: Vec<String>,
    /// Ignore maintenance windows.
    #[arg(long)]
    now: bool,
    /// Roll back the running keys rotation (in phase 1).
    #[arg(long, conflicts_with_all = ["service", "now"])]
    rollback: bool,
}

fn run(
    model: &ModelArgs,
    work: impl FnOnce(&Target<'_>) -> Result<RotationJson>,
) -> Result<Outcome> {
    let rotation = model.with_target(false, |target, _| work(target))?;
    if model.json {
        print_json(&rotation)?;
    } else {
        print!("{}", rotation_text(&rotation));
    }
    Ok(Outcome::Success)
}

impl RotateCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<Outcome> {
        match self {
            RotateCommand::Ca(a) if a.rollback => run(&a.model, |t| start::rollback(t, false)),
            RotateCommand::Ca(a) => {
                let how = CaRotation {
                    intermediate: a.intermediate,
                    cross_sign: a.cross_sign,
                };
                run(&a.model, |t| start::start_ca(t, how))
            }
            RotateCommand::Keys(a) if a.rollback => run(&a.model, |t| start::rollback(t, true)),
            RotateCommand::Keys(a) => {
                let how = KeysRotation {
                    services: a.service,
                    now: a.now,
                };
                run(&a.model, |t| start::start_keys(t, &how))
            }
        }
    }
}
