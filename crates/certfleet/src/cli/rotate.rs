//! `certfleet rotate ca` and `certfleet rotate keys`: start (or roll back) a CA or key
//! rotation of a platform model, offline (`--model`: [`certfleet_platform::rotation`]
//! does the work and each following apply carries out one phase), or of a platform on a
//! running server (`--platform`: the server carries out the phases through the agents;
//! `rotate status` shows where it stands). This module holds the flags and prints.

use super::client::{admin_client, ServerFlags};
use super::output::print_json;
use super::platform::ModelArgs;
use super::Outcome;
use anyhow::Result;
use certfleet_api::admin::plan_apply::{RotationJson, RotationRequest, RotationRequestKind};
use certfleet_api::client_rotation::{rotation_status, rotation_status_text, start_rotation};
use certfleet_platform::rotation::report::{rotation_text, PHASES_HELP};
use certfleet_platform::rotation::start::{self, CaRotation, KeysRotation};
use certfleet_platform::run::Target;
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `certfleet rotate`.
#[derive(Debug, Subcommand)]
pub enum RotateCommand {
    /// Start a rotation of the platform's internal CA (a new root, or a new
    /// intermediate), or roll one back.
    #[command(after_help = format!("Example:\n  certfleet rotate ca --model platform.toml --root /tmp/stage\n  certfleet plan --model platform.toml --root /tmp/stage\n  certfleet apply --model platform.toml --root /tmp/stage --reload   (three times)\n  certfleet rotate ca --platform qms --data-dir ./certfleet-data   (through the agents)\n\nWith --platform the server carries out the phases through the platform's agents:\nphase 2 goes through the rollout turns, `certfleet rotate status` shows each node.\n\nMakes the new CA in the CA directory's next/ and the record STATE/rotation.json;\nno output changes until apply.\n\n{PHASES_HELP}\n\n--intermediate makes a new issuing intermediate under the existing root.\n--cross-sign also signs the new intermediate with the old root (next/cross.crt):\ncertificates of phase 2 carry that copy, so peers still trusting only the old\nroot accept them; plan names the services whose trust certfleet cannot update."))]
    Ca(CaArgs),
    /// Start a key rotation: new keys and certificates for the internal CA's services
    /// and the self-signed ones, or roll one back.
    #[command(after_help = format!("Example:\n  certfleet rotate keys --model platform.toml --service web\n  certfleet rotate keys --platform qms --service web --now\n\n{PHASES_HELP}\n\nThe CA stays; the new keys are made in phase 2. --now ignores maintenance\nwindows (agents only: the offline apply has none) and is recorded."))]
    Keys(KeysArgs),
    /// Show the rotation of a platform on a running server: its phase and where each
    /// node stands.
    #[command(
        after_help = "Example:\n  certfleet rotate status --platform qms --data-dir ./certfleet-data"
    )]
    Status(StatusArgs),
}

/// Where a rotation runs: a model, rotated offline, or a platform of a running server,
/// rotated through its agents. With --model, --data-dir is where the master key is.
#[derive(Debug, Args)]
pub struct Place {
    /// The platform model (TOML), rotated offline: each following apply carries out one
    /// phase. Refused when users other than its owner could change it.
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "platform",
        conflicts_with = "platform"
    )]
    model: Option<PathBuf>,
    /// A platform configured on a running server (its model's `[platform]` name): the
    /// server carries out each phase through the platform's agents.
    #[arg(long, value_name = "NAME")]
    platform: Option<String>,
    /// With --model: write every file under DIR instead of the real paths.
    #[arg(long, value_name = "DIR", conflicts_with = "platform")]
    root: Option<PathBuf>,
    #[command(flatten)]
    server: ServerFlags,
    /// Print one JSON document on stdout.
    #[arg(long)]
    json: bool,
}

/// `certfleet rotate status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The platform: its model's `[platform]` name, configured on the server.
    #[arg(long, value_name = "NAME")]
    platform: String,
    #[command(flatten)]
    server: ServerFlags,
    /// Print the server's JSON answer.
    #[arg(long)]
    json: bool,
}

/// `certfleet rotate ca`.
#[derive(Debug, Args)]
pub struct CaArgs {
    #[command(flatten)]
    place: Place,
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
    place: Place,
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

fn run(place: Place, work: impl FnOnce(&Target<'_>) -> Result<RotationJson>) -> Result<Outcome> {
    let Some(model) = place.model else {
        anyhow::bail!("give --model FILE (offline) or --platform NAME (on a running server)");
    };
    // The flag is optional on client commands (a saved context may name the server's).
    let data_dir = place
        .server
        .data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("./certfleet-data"));
    let model = ModelArgs::new(model, place.root, data_dir, place.json);
    let rotation = model.with_target(false, |target, _| work(target))?;
    if place.json {
        print_json(&rotation)?;
    } else {
        print!("{}", rotation_text(&rotation));
    }
    Ok(Outcome::Success)
}

/// Asks the server for `request` (`None`: only where the rotation stands) and prints
/// its answer.
fn on_server(
    flags: ServerFlags,
    platform: &str,
    request: Option<RotationRequest>,
    json: bool,
) -> Result<Outcome> {
    let client = admin_client(&flags)?;
    let (status, raw) = match &request {
        Some(request) => start_rotation(&client, platform, request)?,
        None => rotation_status(&client, platform)?,
    };
    if json {
        print_json(&raw)?;
    } else {
        print!("{}", rotation_status_text(&status));
    }
    Ok(Outcome::Success)
}

impl Place {
    /// The server's flags and the platform, when this is `--platform`.
    fn remote(&self) -> Option<(ServerFlags, String)> {
        Some((self.server.clone(), self.platform.clone()?))
    }
}

impl RotateCommand {
    /// Runs the subcommand.
    pub fn run(self) -> Result<Outcome> {
        match self {
            RotateCommand::Status(a) => on_server(a.server, &a.platform, None, a.json),
            RotateCommand::Ca(a) => {
                if let Some((flags, platform)) = a.place.remote() {
                    let request = RotationRequest {
                        kind: RotationRequestKind::Ca,
                        intermediate: a.intermediate,
                        cross_sign: a.cross_sign,
                        rollback: a.rollback,
                        services: Vec::new(),
                        now: false,
                    };
                    return on_server(flags, &platform, Some(request), a.place.json);
                }
                if a.rollback {
                    return run(a.place, |t| start::rollback(t, false));
                }
                let how = CaRotation {
                    intermediate: a.intermediate,
                    cross_sign: a.cross_sign,
                };
                run(a.place, |t| start::start_ca(t, how))
            }
            RotateCommand::Keys(a) => {
                if let Some((flags, platform)) = a.place.remote() {
                    let request = RotationRequest {
                        kind: RotationRequestKind::Keys,
                        intermediate: false,
                        cross_sign: false,
                        rollback: a.rollback,
                        services: a.service,
                        now: a.now,
                    };
                    return on_server(flags, &platform, Some(request), a.place.json);
                }
                if a.rollback {
                    return run(a.place, |t| start::rollback(t, true));
                }
                let how = KeysRotation {
                    services: a.service,
                    now: a.now,
                };
                run(a.place, |t| start::start_keys(t, &how))
            }
        }
    }
}
