//! Plan and apply: one evaluation of the model against the state directory and the files
//! on disk, which either only reports (`plan`) or also issues and renders (`apply`).
//!
//! The evaluation does no writing itself: it returns the files to write (all at once, by
//! the caller, atomically), the reload commands to run for services whose files changed,
//! and the report. Before anything else it refuses what would make writing unsafe: under
//! `--root`, a path that leaves the root through a symbolic link; in `apply`, a file at an
//! output path that certfleet did not write (unless [`Options::adopt`]). `plan` returns only the external CAs' keys and CSRs to write, which
//! the administrator needs before anything else can happen.

use crate::ca::{anchor, internal_ca};
use crate::certs::{self, Action, Status};
use crate::error::{PlatformError, Result};
use crate::model::{self, Locator};
use crate::outputs::OutputRun;
use crate::paths::Layout;
use crate::render::{self, FileWrite};
use crate::report;
use crate::rotation::staging::ForcedRekey;
use crate::spec::{Connection, IssuerKind, Platform};
use crate::state::{OutputState, Passwords, State};
use crate::trust::{self, Anchor, Anchors};
use certfleet_api::admin::plan_apply::{Change, PendingCsrFile, ServiceReport};
use certfleet_pki::authority::Authority;
use certfleet_secrets::MasterKey;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// Plan only, or apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Report what would change.
    Plan,
    /// Issue, render, and return the files to write.
    Apply,
}

/// A progress callback: (services done so far plus this one, services in all, service).
pub type Progress = dyn Fn(usize, usize, &str);

/// What the caller supplies.
pub struct Options<'a> {
    /// The model file.
    pub model_path: &'a Path,
    /// `--root`.
    pub root: Option<&'a Path>,
    /// The working directory, to make paths absolute.
    pub cwd: &'a Path,
    /// The master key for `CRYPT:` passwords, when there is one.
    pub master_key: Option<&'a MasterKey>,
    /// The time to judge validity at.
    pub now: OffsetDateTime,
    /// Loads the issuing CA from a CA directory (the layout of `ca init`).
    pub load_ca: &'a dyn Fn(&Path) -> std::result::Result<Authority, String>,
    /// Told which service's certificate is being worked on (apply), for a progress line.
    pub progress: Option<&'a Progress>,
    /// Take over files at output paths that certfleet did not write (`--adopt`); without
    /// it apply refuses them, writing nothing.
    pub adopt: bool,
}

/// A reload command to run after the files are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reload {
    /// The service.
    pub service: String,
    /// The command (`sh -c`).
    pub command: String,
    /// How long it may run before it is killed.
    pub timeout: Duration,
}

/// The result of one evaluation.
#[derive(Debug)]
pub struct Evaluation {
    /// The platform's name.
    pub platform: String,
    /// Changes, in model order.
    pub changes: Vec<Change>,
    /// Per-service report.
    pub services: Vec<ServiceReport>,
    /// The model's connections, from which the trust graph is derived.
    pub connections: Vec<Connection>,
    /// Files to write, all at once.
    pub files: Vec<FileWrite>,
    /// The mode and owner the model sets for some of them, by path.
    pub access: BTreeMap<PathBuf, crate::spec::FileAccess>,
    /// Directories to create owner-only (0700) before writing.
    pub private_dirs: Vec<PathBuf>,
    /// Reloads to run after writing (apply only).
    pub reloads: Vec<Reload>,
    /// The next-steps report.
    pub next_steps: String,
    /// `STATE/next-steps.txt`.
    pub next_steps_file: PathBuf,
    /// `STATE/passwords.json`, when any keystore output exists.
    pub passwords_file: Option<PathBuf>,
    /// The state directory.
    pub state_dir: PathBuf,
    /// `STATE/state.json`, to record the reloads that succeeded.
    pub state_file: PathBuf,
    /// CSRs waiting for an external CA.
    pub pending_csrs: Vec<PendingCsrFile>,
    /// Existing files at output paths that certfleet did not write and a change would
    /// overwrite (apply refuses them unless adopting).
    pub unrecorded: Vec<PathBuf>,
    /// The CA or key rotation under way, as it stood when evaluated.
    pub rotation: Option<crate::rotation::record::Record>,
    /// The internal CA's directory, when the platform uses one.
    pub ca_dir: Option<PathBuf>,
    /// Services that trust the internal CA but have no truststore output, so certfleet
    /// cannot hand them a new CA (a cross-signed root helps them through a rotation).
    pub needs_cross_sign: Vec<String>,
}

fn read_model(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| PlatformError::io(path, &e))
}

/// Parses and validates the model file alone.
pub fn load_model(path: &Path) -> Result<Platform> {
    let text = read_model(path)?;
    let loc = Locator::new(&path.display().to_string(), &text);
    crate::validate::validate(&loc, &model::parse(&loc, &text)?)
}

fn change_for(service: &str, action: &Action) -> Option<Change> {
    let (name, reason) = match action {
        Action::Keep => return None,
        Action::Issue(r) => ("issue", r),
        Action::Renew(r) => ("renew", r),
        Action::Rekey(r) => ("rekey", r),
    };
    Some(Change {
        service: service.to_owned(),
        action: name.to_owned(),
        path: None,
        reason: reason.clone(),
    })
}

/// Runs one evaluation.
pub fn evaluate(opts: &Options<'_>, mode: Mode) -> Result<Evaluation> {
    let text = read_model(opts.model_path)?;
    let loc = Locator::new(&opts.model_path.display().to_string(), &text);
    let platform = crate::validate::validate(&loc, &model::parse(&loc, &text)?)?;
    let layout = Layout::new(opts.model_path, opts.root, &platform.name, opts.cwd);
    let prior_state = State::load(&layout.state_file())?;
    let state_exists = layout.state_file().exists();
    let mut passwords = Passwords::load(&layout.passwords_file())?;
    let prior_passwords_json = passwords.to_json()?;
    let apply = mode == Mode::Apply;

    let mut eval = Evaluation {
        platform: platform.name.clone(),
        changes: Vec::new(),
        services: Vec::new(),
        connections: platform.connections.clone(),
        files: Vec::new(),
        access: BTreeMap::new(),
        private_dirs: layout.private_dirs(),
        reloads: Vec::new(),
        next_steps: String::new(),
        next_steps_file: layout.next_steps_file(),
        passwords_file: None,
        state_dir: layout.state_dir().to_path_buf(),
        state_file: layout.state_file(),
        pending_csrs: Vec::new(),
        unrecorded: Vec::new(),
        rotation: None,
        ca_dir: None,
        needs_cross_sign: Vec::new(),
    };
    let confinement = layout.confinement()?;
    let confine = |path: &Path| match &confinement {
        Some(c) => c.check(path),
        None => Ok(()),
    };
    confine(layout.state_dir())?;

    // Placing every output first refuses a bad path before anything is issued.
    // `placed[service][output]`, in model order.
    let mut placed: Vec<Vec<PathBuf>> = Vec::with_capacity(platform.services.len());
    let mut claimed: BTreeMap<PathBuf, usize> = BTreeMap::new();
    let ca_dir = if platform.uses_internal_ca() {
        Some(layout.ca_dir(&platform.ca_dir)?)
    } else {
        None
    };
    if let Some(dir) = &ca_dir {
        confine(dir)?;
    }
    for service in &platform.services {
        let mut paths = Vec::with_capacity(service.outputs.len());
        for output in &service.outputs {
            let at_line = |message: String| PlatformError::Model {
                file: loc.file().to_owned(),
                line: output.line,
                key: "service.output.path".into(),
                message,
            };
            let path = layout
                .place(&output.path)
                .map_err(|e| at_line(e.to_string()))?;
            for (file, _) in render::files_of(output.format, &path) {
                confine(&file)?;
                if file.starts_with(layout.state_dir()) {
                    return Err(at_line(format!(
                        "{} is inside certfleet's state directory",
                        file.display()
                    )));
                }
                if ca_dir.as_ref().is_some_and(|dir| file.starts_with(dir)) {
                    return Err(at_line(format!(
                        "{} is inside the internal CA's directory, whose files are never overwritten",
                        file.display()
                    )));
                }
                if let Some(line) = claimed.insert(file.clone(), output.line) {
                    return Err(at_line(format!(
                        "{} is also written by the output on line {line}",
                        file.display()
                    )));
                }
            }
            paths.push(path);
        }
        placed.push(paths);
    }

    let ca = internal_ca(&platform, &layout, opts, mode, &mut eval)?;
    eval.rotation = ca.rotation.clone();
    eval.ca_dir = ca.dir.clone();
    let mut staging = crate::rotation::staging::prepare(
        &platform,
        &layout,
        ca.rotation.as_ref(),
        apply,
        opts.now,
        &mut eval,
    )?;

    // Certificates.
    let mut outcomes = Vec::new();
    for (index, service) in platform.services.iter().enumerate() {
        if let (true, Some(progress)) = (apply, opts.progress) {
            progress(index + 1, platform.services.len(), &service.name);
        }
        let prior = prior_state.services.get(&service.name);
        let outcome = match (&service.csr_file, service.issuer) {
            (Some(file), _) => crate::supplied_csr::outcome(
                loc.file(),
                &layout,
                service,
                file,
                &crate::supplied_csr::csr_path(opts.model_path, opts.cwd, file),
                prior,
                ca.authority.as_ref(),
                apply,
                opts.now,
                placed.get(index).map_or(&[][..], Vec::as_slice),
            )?,
            (None, issuer) => match issuer {
                IssuerKind::Internal | IssuerKind::SelfSigned => certs::issued(
                    &layout,
                    service,
                    prior,
                    ca.authority.as_ref(),
                    crate::rotation::phases::forced_rekey(
                        ca.rotation.as_ref(),
                        &service.name,
                        prior.map(|p| p.sha1_thumbprint.as_str()),
                    )
                    .map(|reason| ForcedRekey {
                        reason,
                        staged: staging.deploy.remove(&service.name),
                    }),
                    apply,
                    opts.now,
                )?,
                IssuerKind::External => certs::external(&layout, service, prior, opts.now)?,
                IssuerKind::Acme => certs::Outcome::new(Status::Acme, Action::Keep),
            },
        };
        eval.changes
            .extend(change_for(&service.name, &outcome.action));
        outcomes.push(outcome);
    }
    // External CAs' keys and CSRs are written by plan as well.
    for (service, outcome) in platform.services.iter().zip(outcomes.iter_mut()) {
        // A CSR made where the key lives is submitted as it is.
        let csr_path = match &service.csr_file {
            Some(file) => crate::supplied_csr::csr_path(opts.model_path, opts.cwd, file),
            None => layout.csr_file(&service.name),
        };
        for file in std::mem::take(&mut outcome.files) {
            if file.path == csr_path {
                eval.changes.push(Change {
                    service: service.name.clone(),
                    action: "write".into(),
                    path: Some(csr_path.display().to_string()),
                    reason: format!(
                        "certificate signing request for the external CA; put its reply at {}",
                        layout.reply_file(&service.name).display()
                    ),
                });
            }
            let is_request = service.issuer == IssuerKind::External
                && (file.path == csr_path || file.path == layout.key_file(&service.name));
            if apply || is_request {
                eval.files.push(file);
            }
        }
        if outcome.csr_waiting {
            eval.pending_csrs.push(PendingCsrFile {
                service: service.name.clone(),
                csr: csr_path.display().to_string(),
                reply: layout.reply_file(&service.name).display().to_string(),
            });
        }
    }

    // The trust graph.
    let ca_anchors: Option<Vec<Anchor>> = ca.authority.as_ref().map(|_| ca.anchors.clone());
    let materials: BTreeMap<&str, &Status> = platform
        .services
        .iter()
        .zip(&outcomes)
        .map(|(s, o)| (s.name.as_str(), &o.status))
        .collect();
    let anchors_of = |name: &str| -> Anchors {
        let Some(service) = platform.service(name) else {
            return Anchors::Unknown("not in the model".into());
        };
        let status = materials.get(name);
        match service.issuer {
            IssuerKind::Internal => match &ca_anchors {
                Some(list) => Anchors::Known(list.clone()),
                None => Anchors::Unknown("the internal CA does not exist yet".into()),
            },
            IssuerKind::SelfSigned => match (status, staging.anchors.get(name)) {
                (Some(Status::Ready(_)), Some(None)) => Anchors::Unknown(
                    "its new self-signed certificate is about to be made (rotate keys)".into(),
                ),
                (Some(Status::Ready(m)), extra) => {
                    let mut list = vec![anchor(&m.cert, opts.now)];
                    for more in extra.into_iter().flatten().flatten() {
                        if list.iter().all(|a| a.sha1 != more.sha1) {
                            list.push(more.clone());
                        }
                    }
                    Anchors::Known(list)
                }
                _ => Anchors::Unknown("its self-signed certificate is about to be issued".into()),
            },
            IssuerKind::External => match status {
                Some(Status::Ready(m)) => {
                    Anchors::Known(m.chain.iter().map(|c| anchor(c, opts.now)).collect())
                }
                Some(Status::WillIssue) => {
                    Anchors::Unknown("its certificate is about to be imported".into())
                }
                _ => Anchors::Awaiting("waiting for the external CA's reply".into()),
            },
            IssuerKind::Acme => Anchors::Public,
        }
    };
    let mut trust_sets = trust::derive(&platform, &anchors_of);
    // The certificates certfleet did not issue, from the model's trust files.
    let listed = crate::trust_files::Reader {
        model_file: loc.file(),
        layout: &layout,
        master_key: opts.master_key,
        now: opts.now,
    }
    .platform(&platform)?;
    crate::trust_files::add_to(&mut trust_sets, &listed);
    eval.needs_cross_sign = platform
        .services
        .iter()
        .filter(|s| !s.outputs.iter().any(|o| o.holds_trust()))
        .filter(|s| {
            trust_sets.get(&s.name).is_some_and(|set| {
                set.entries
                    .iter()
                    .any(|e| ca.anchors.iter().any(|a| a.sha1 == e.anchor.sha1))
            })
        })
        .map(|s| s.name.clone())
        .collect();

    // Outputs.
    let recorded: BTreeSet<String> = prior_state
        .outputs
        .values()
        .flat_map(|o| o.files.keys().cloned())
        .collect();
    let run = OutputRun {
        loc: &loc,
        salt: &prior_state.salt,
        prior: &prior_state.outputs,
        recorded: &recorded,
        master_key: opts.master_key,
        apply,
        adopt: opts.adopt,
    };
    let mut new_outputs: BTreeMap<String, OutputState> = BTreeMap::new();
    let mut any_keystore = false;
    for ((service, outcome), paths) in platform.services.iter().zip(&outcomes).zip(&placed) {
        let trust = trust_sets.get(&service.name).cloned().unwrap_or_default();
        let done = run.service(service, outcome, &trust, paths, &mut passwords)?;
        eval.changes.extend(done.changes);
        eval.files.extend(done.files);
        eval.access.extend(done.access);
        new_outputs.extend(done.records);
        any_keystore |= done.keystores;
        eval.unrecorded.extend(done.unrecorded);
        let retry = prior_state.pending_reloads.contains(&service.name);
        if let (true, Some(command)) = (done.wrote || retry, &service.reload) {
            let reason = if done.wrote {
                format!("its files changed: {command}")
            } else {
                format!("its reload is pending: the last apply did not run it (held back by --root or --no-reload) or it failed: {command}")
            };
            eval.changes.push(Change {
                service: service.name.clone(),
                action: "reload".into(),
                path: None,
                reason,
            });
            if apply {
                eval.reloads.push(Reload {
                    service: service.name.clone(),
                    command: command.clone(),
                    timeout: service.reload_timeout,
                });
            }
        }
        eval.services.push(report::service_report(
            &platform, service, outcome, &outcomes, &trust, done.notes, paths,
        ));
    }
    if any_keystore {
        eval.passwords_file = Some(layout.passwords_file());
    }
    if apply && !opts.adopt && !eval.unrecorded.is_empty() {
        return Err(PlatformError::Unrecorded {
            paths: std::mem::take(&mut eval.unrecorded),
        });
    }

    if apply {
        let mut state = State {
            version: 1,
            salt: prior_state.salt.clone(),
            services: BTreeMap::new(),
            outputs: new_outputs,
            // Until the caller reports them done (state::record_reloads).
            pending_reloads: eval.reloads.iter().map(|r| r.service.clone()).collect(),
        };
        for (service, outcome) in platform.services.iter().zip(&outcomes) {
            match &outcome.record {
                Some(record) => {
                    state.services.insert(service.name.clone(), record.clone());
                }
                None => {
                    if let Some(prior) = prior_state.services.get(&service.name) {
                        state.services.insert(service.name.clone(), prior.clone());
                    }
                }
            }
        }
        if state != prior_state || !state_exists {
            eval.files.push(FileWrite {
                path: layout.state_file(),
                contents: Zeroizing::new(state.to_json()?.into_bytes()),
                secret: true,
            });
        }
        let keystores: BTreeSet<String> = platform
            .services
            .iter()
            .zip(&placed)
            .flat_map(|(service, paths)| service.outputs.iter().zip(paths))
            .filter(|(o, _)| o.format.is_keystore())
            .map(|(_, p)| p.display().to_string())
            .collect();
        passwords.retain(&keystores);
        let passwords_json = passwords.to_json()?;
        if passwords_json != prior_passwords_json {
            eval.files.push(FileWrite {
                path: layout.passwords_file(),
                contents: Zeroizing::new(passwords_json.as_bytes().to_vec()),
                secret: true,
            });
        }
    }

    eval.next_steps = report::next_steps(&report::Context {
        platform: &platform,
        services: &eval.services,
        ca_dir: ca.dir.as_deref(),
        ca_root: ca
            .authority
            .as_ref()
            .and_then(|a| a.issuing_chain().last().map(|c| anchor(c, opts.now))),
        ca_intermediate: ca.authority.as_ref().and_then(|a| {
            let chain = a.issuing_chain();
            (chain.len() > 1).then(|| anchor(&chain[0], opts.now))
        }),
        passwords_file: eval.passwords_file.as_deref(),
        pending: &eval.pending_csrs,
    });
    if apply {
        let current = std::fs::read_to_string(&eval.next_steps_file).unwrap_or_default();
        if current != eval.next_steps {
            eval.files.push(FileWrite {
                path: eval.next_steps_file.clone(),
                contents: Zeroizing::new(eval.next_steps.clone().into_bytes()),
                secret: false,
            });
        }
    }
    // The state's and the CA's own files too: a link inside them must not lead out.
    for file in &eval.files {
        confine(&file.path)?;
    }
    Ok(eval)
}

#[cfg(test)]
mod tests {
    use super::*;
    use certfleet_pki::certs::parse_single_certificate;
    use certfleet_pki::keys::PrivateKey;

    const MODEL: &str = r#"
[platform]
name = "t"
key = "ecdsa-p256"

[[node]]
name = "n"
fqdn = "n.example.test"

[[service]]
name = "data"
node = "n"
allowed_clients = ["rec"]
reload = "true"

[[service.output]]
format = "pem-pair"
path = "/opt/data/tls"

[[service.output]]
format = "pem-trust"
path = "/opt/data/trust.pem"

[[service]]
name = "rec"
node = "n"
cn = "rec.example.test"

[[service.output]]
format = "pkcs12"
path = "/opt/rec/rec.p12"
alias = "rec"

[[service.output]]
format = "jks-trust"
path = "/opt/rec/trust.jks"

[[service]]
name = "gw"
node = "n"
ca = "self-signed"
cn = "gw.example.test"

[[connection]]
from = "rec"
to = "data"
mtls = true

[[connection]]
from = "rec"
to = "gw"
"#;

    fn load_ca(dir: &Path) -> std::result::Result<Authority, String> {
        let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| e.to_string());
        let root = parse_single_certificate(&read("root.crt")?).map_err(|e| e.to_string())?;
        let cert =
            parse_single_certificate(&read("intermediate.crt")?).map_err(|e| e.to_string())?;
        let key = PrivateKey::from_bytes(&read("intermediate.key")?).map_err(|e| e.to_string())?;
        Authority::new(cert, key, vec![root]).map_err(|e| e.to_string())
    }

    fn run(dir: &Path, model: &str, mode: Mode) -> Evaluation {
        std::fs::write(dir.join("m.toml"), model).unwrap();
        let root = dir.join("root");
        let opts = Options {
            model_path: &dir.join("m.toml"),
            root: Some(&root),
            cwd: dir,
            master_key: None,
            now: OffsetDateTime::now_utc(),
            load_ca: &load_ca,
            progress: None,
            adopt: false,
        };
        let mut eval = evaluate(&opts, mode).unwrap();
        for f in std::mem::take(&mut eval.files) {
            std::fs::create_dir_all(f.path.parent().unwrap()).unwrap();
            std::fs::write(&f.path, f.contents.as_slice()).unwrap();
            #[cfg(unix)]
            if f.secret {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&f.path, std::fs::Permissions::from_mode(0o600)).unwrap();
            }
        }
        // Every reload succeeds.
        let done: Vec<String> = eval.reloads.iter().map(|r| r.service.clone()).collect();
        crate::state::record_reloads(&eval.state_file, &done).unwrap();
        eval
    }

    fn actions(eval: &Evaluation) -> Vec<(String, &str)> {
        eval.changes
            .iter()
            .map(|c| (c.service.clone(), c.action.as_str()))
            .collect()
    }

    #[test]
    fn apply_then_nothing_then_a_deleted_file_then_a_new_name() {
        let dir = tempfile::tempdir().unwrap();
        let plan = run(dir.path(), MODEL, Mode::Plan);
        assert!(actions(&plan).contains(&("data".into(), "issue")));
        assert!(!dir.path().join("root/opt").exists(), "plan wrote outputs");

        let applied = run(dir.path(), MODEL, Mode::Apply);
        assert_eq!(applied.reloads.len(), 1);
        let data = &applied.services[0];
        let rec = &applied.services[1];
        // rec trusts the internal root and intermediate (data) and gw's own certificate.
        assert_eq!(
            rec.trusts,
            ["CN=t Issuing CA", "CN=t Root CA", "CN=gw.example.test"]
        );
        assert_eq!(data.trusts, ["CN=t Issuing CA", "CN=t Root CA"]);
        assert_eq!(
            data.allowed_client_thumbprints,
            [rec.client_thumbprint.clone().unwrap()]
        );
        assert!(data.client_thumbprint.is_none());
        assert!(dir.path().join("root/opt/data/tls.key").exists());
        assert!(dir.path().join("root/.certfleet/t/passwords.json").exists());

        let again = run(dir.path(), MODEL, Mode::Plan);
        assert!(again.changes.is_empty(), "{:?}", again.changes);
        let again = run(dir.path(), MODEL, Mode::Apply);
        assert!(again.changes.is_empty() && again.reloads.is_empty() && again.files.is_empty());

        // A file changed on disk, or a key opened up, is rewritten.
        std::fs::write(dir.path().join("root/opt/data/trust.pem"), "tampered").unwrap();
        let plan = run(dir.path(), MODEL, Mode::Plan);
        assert!(
            plan.changes[0].reason.contains("changed on disk"),
            "{:?}",
            plan.changes
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let key = dir.path().join("root/opt/data/tls.key");
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
            let plan = run(dir.path(), MODEL, Mode::Plan);
            assert!(plan
                .changes
                .iter()
                .any(|c| c.reason.contains("open to others")));
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        }

        std::fs::remove_file(dir.path().join("root/opt/data/trust.pem")).unwrap();
        let plan = run(dir.path(), MODEL, Mode::Plan);
        assert_eq!(
            actions(&plan),
            [("data".to_owned(), "write"), ("data".to_owned(), "reload")]
        );

        let renamed = MODEL.replace("cn = \"gw.example.test\"", "cn = \"gw2.example.test\"");
        let plan = run(dir.path(), &renamed, Mode::Plan);
        let acts = actions(&plan);
        assert!(acts.contains(&("gw".into(), "renew")), "{acts:?}");
        // rec's truststore holds gw's certificate, so it is rewritten too.
        assert!(plan
            .changes
            .iter()
            .any(|c| c.service == "rec"
                && c.path.as_deref().is_some_and(|p| p.ends_with("trust.jks"))));
    }

    #[test]
    fn two_outputs_on_one_file_and_a_broken_ca_dir_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let twice = MODEL.replace(
            "path = \"/opt/data/trust.pem\"",
            "path = \"/opt/data/tls.crt\"",
        );
        std::fs::write(dir.path().join("m.toml"), &twice).unwrap();
        let root = dir.path().join("root");
        let opts = Options {
            model_path: &dir.path().join("m.toml"),
            root: Some(&root),
            cwd: dir.path(),
            master_key: None,
            now: OffsetDateTime::now_utc(),
            load_ca: &load_ca,
            progress: None,
            adopt: false,
        };
        let message = evaluate(&opts, Mode::Plan).unwrap_err().to_string();
        assert!(message.contains(":21: service.output.path:"), "{message}");
        assert!(
            message.contains("also written by the output on line 17"),
            "{message}"
        );
        let into_ca = MODEL.replace("path = \"/opt/data/trust.pem\"", "path = \"ca/root.key\"");
        std::fs::write(dir.path().join("m.toml"), &into_ca).unwrap();
        let message = evaluate(&opts, Mode::Plan).unwrap_err().to_string();
        assert!(message.contains("internal CA's directory"), "{message}");

        std::fs::write(dir.path().join("m.toml"), MODEL).unwrap();
        std::fs::create_dir_all(root.join("ca")).unwrap();
        std::fs::write(root.join("ca/root.key"), "precious").unwrap();
        let message = evaluate(&opts, Mode::Apply).unwrap_err().to_string();
        assert!(message.contains("no root.crt"), "{message}");
        assert_eq!(
            std::fs::read_to_string(root.join("ca/root.key")).unwrap(),
            "precious"
        );
    }
}

#[cfg(test)]
#[path = "engine_shared_tests.rs"]
mod shared_tests;
