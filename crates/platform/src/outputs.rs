//! One service's output files: whether each must be written (a missing file, or a digest
//! that differs from the one in `state.json`), its store password (from the model, from
//! `passwords.json`, or generated under the secret policy), and in `apply` its bytes.
//! A file already at an output path that certfleet did not write is named in the change
//! and in [`ServiceOutputs::unrecorded`], for apply to refuse unless told to adopt it.

use crate::certs::{Action, Material, Outcome, Status};
use crate::error::{PlatformError, Result};
use crate::model::Locator;
use crate::render::{self, FileWrite, Inputs, Leaf};
use crate::spec::{Output, Service};
use crate::state::{OutputState, Passwords};
use crate::trust::{Anchor, TrustSet};
use certfleet_api::admin::plan_apply::Change;
use certfleet_secrets::policy::SecretPolicy;
use certfleet_secrets::{resolve_for, MasterKey, CRYPT_PREFIX};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use zeroize::Zeroizing;

/// Length of generated keystore passwords.
const PASSWORD_LENGTH: usize = 24;

/// A new keystore password under the default secret policy (what apply writes into
/// `passwords.json`, and what the node agent makes on the node).
pub fn generate_password() -> std::result::Result<Zeroizing<String>, String> {
    SecretPolicy::default()
        .generate(PASSWORD_LENGTH)
        .map(Zeroizing::new)
        .map_err(|e| e.to_string())
}

/// What is shared by every service's outputs in one evaluation.
pub struct OutputRun<'a> {
    /// The model file, for errors naming a line.
    pub loc: &'a Locator,
    /// The state's digest salt.
    pub salt: &'a str,
    /// Outputs on record, by written path.
    pub prior: &'a BTreeMap<String, OutputState>,
    /// Every file on record as written by certfleet (the `files` of each prior output).
    pub recorded: &'a BTreeSet<String>,
    /// For `CRYPT:` passwords.
    pub master_key: Option<&'a MasterKey>,
    /// Render (apply) or only compare (plan).
    pub apply: bool,
    /// Apply takes over files certfleet did not write (`--adopt`).
    pub adopt: bool,
}

/// The result for one service's outputs.
#[derive(Debug, Default)]
pub struct ServiceOutputs {
    /// `write` changes.
    pub changes: Vec<Change>,
    /// Rendered files (apply only).
    pub files: Vec<FileWrite>,
    /// The mode and owner the model sets for some of them, by path.
    pub access: Vec<(std::path::PathBuf, crate::spec::FileAccess)>,
    /// Records for `state.json`, by written path.
    pub records: Vec<(String, OutputState)>,
    /// True when any output is (or would be) written.
    pub wrote: bool,
    /// Remarks for the report.
    pub notes: Vec<String>,
    /// True when the service has a keystore output.
    pub keystores: bool,
    /// Existing files that a change would overwrite and certfleet did not write.
    pub unrecorded: Vec<PathBuf>,
}

/// Why files that should be current must be rewritten anyway: changed on disk since
/// certfleet wrote them, or a secret file readable by others.
fn tampered(files: &[(PathBuf, bool)], prior: &OutputState) -> Result<Option<String>> {
    for (file, secret) in files {
        let shown = file.display().to_string();
        if let Some(recorded) = prior.files.get(&shown) {
            let bytes = std::fs::read(file).map_err(|e| PlatformError::io(file, &e))?;
            if &render::bytes_digest(&bytes) != recorded {
                return Ok(Some(format!(
                    "{shown} was changed on disk since certfleet wrote it"
                )));
            }
        }
        #[cfg(unix)]
        if *secret {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(file)
                .map_err(|e| PlatformError::io(file, &e))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Ok(Some(format!(
                    "{shown} is open to others (mode {:o}); keys and keystores are kept 0600",
                    mode & 0o777
                )));
            }
        }
        #[cfg(not(unix))]
        let _ = secret;
    }
    Ok(None)
}

impl OutputRun<'_> {
    fn secret(&self, output: &Output, key: &str, written: &str) -> Result<Zeroizing<String>> {
        resolve_for(written, self.master_key, key).map_err(|e| PlatformError::Model {
            file: self.loc.file().to_owned(),
            line: output.line,
            key: key.to_owned(),
            message: e.to_string(),
        })
    }

    /// The store password of a keystore output at `path`: the model's, else the one on
    /// record, else a new one (recorded in `passwords`).
    fn password(
        &self,
        service: &Service,
        output: &Output,
        path: &str,
        passwords: &mut Passwords,
    ) -> Result<Zeroizing<String>> {
        if let Some(written) = &output.password {
            passwords.set(path, written);
            return self.secret(output, "service.output.password", written);
        }
        if let Some(p) = passwords.get(path).filter(|p| !p.starts_with(CRYPT_PREFIX)) {
            return Ok(Zeroizing::new(p.to_owned()));
        }
        let generated =
            generate_password().map_err(|e| PlatformError::service(&service.name, e))?;
        passwords.set(path, &generated);
        Ok(generated)
    }

    /// Evaluates every output of `service` placed at `paths` (in model order).
    pub fn service(
        &self,
        service: &Service,
        outcome: &Outcome,
        trust: &TrustSet,
        paths: &[PathBuf],
        passwords: &mut Passwords,
    ) -> Result<ServiceOutputs> {
        let mut result = ServiceOutputs::default();
        let trusted: Vec<Anchor> = trust.entries.iter().map(|e| e.anchor.clone()).collect();
        let change = |path: &str, reason: String| Change {
            service: service.name.clone(),
            action: "write".into(),
            path: Some(path.to_owned()),
            reason,
        };
        // Existing files certfleet did not write, by output.
        let mut foreign: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        for (output, path) in service.outputs.iter().zip(paths) {
            let key = path.display().to_string();
            let prior = self.prior.get(&key);
            if prior.is_none() {
                let found: Vec<PathBuf> = render::files_of(output.format, path)
                    .into_iter()
                    .map(|(file, _)| file)
                    .filter(|file| {
                        std::fs::symlink_metadata(file).is_ok()
                            && !self.recorded.contains(&file.display().to_string())
                    })
                    .collect();
                if !found.is_empty() {
                    foreign.insert(key.clone(), found);
                }
            }
            // The certificate, when the format needs one.
            let leaf: Option<&Material> = match (&outcome.status, output.format.needs_leaf()) {
                (_, false) => None,
                (Status::Ready(m), true) => Some(m),
                (Status::WillIssue, true) => {
                    result.changes.push(change(
                        &key,
                        "it holds the certificate that is being issued".into(),
                    ));
                    result.wrote = true;
                    continue;
                }
                (Status::AwaitingReply | Status::Acme, true) => {
                    if let Some(prior) = prior {
                        result.records.push((key.clone(), prior.clone()));
                    }
                    result.notes.push(format!(
                        "{key} is not written until the service has a certificate"
                    ));
                    continue;
                }
            };
            if output.holds_trust() && !trust.unknown.is_empty() && !self.apply {
                result.changes.push(change(
                    &key,
                    format!(
                        "its trust set changes with new certificates ({})",
                        trust.unknown.join("; ")
                    ),
                ));
                result.wrote = true;
                continue;
            }
            let (password, key_password) = if output.format.is_keystore() {
                result.keystores = true;
                let password = self.password(service, output, &key, passwords)?;
                let key_password = match &output.key_password {
                    Some(written) => {
                        Some(self.secret(output, "service.output.key_password", written)?)
                    }
                    None => None,
                };
                (Some(password), key_password)
            } else {
                (None, None)
            };
            let inputs = Inputs {
                output,
                leaf: leaf.map(|m| Leaf {
                    key: m.key.as_ref(),
                    cert: &m.cert,
                    chain: &m.chain,
                }),
                trusted: &trusted,
                password: password.as_deref().map(|p| p.as_str()),
                key_password: key_password.as_deref().map(|p| p.as_str()),
            };
            let digest = render::digest(self.salt, &inputs);
            let files = render::files_of(output.format, path);
            let missing = files.iter().find(|(p, _)| !p.exists()).map(|(p, _)| p);
            let reason = match (missing, prior) {
                (Some(file), _) => Some(format!("{} does not exist", file.display())),
                (None, None) => Some("not written by certfleet yet".to_owned()),
                (None, Some(p)) if p.digest != digest => {
                    Some(match (&outcome.action, output.format) {
                        (Action::Keep, _) if output.holds_trust() => {
                            "the trust set changed".to_owned()
                        }
                        (Action::Keep, _) => {
                            "its contents changed (password, alias or format)".to_owned()
                        }
                        _ => "the certificate changed".to_owned(),
                    })
                }
                (None, Some(p)) => tampered(&files, p)?,
            };
            match reason {
                None => {
                    if let Some(prior) = prior {
                        result.records.push((key, prior.clone()));
                    }
                }
                Some(reason) => {
                    result.changes.push(change(&key, reason));
                    result.wrote = true;
                    if self.apply {
                        let rendered = render::render(path, &inputs)?;
                        let written = rendered
                            .iter()
                            .map(|f| {
                                (
                                    f.path.display().to_string(),
                                    render::bytes_digest(&f.contents),
                                )
                            })
                            .collect();
                        if !output.access.is_default() {
                            result.access.extend(
                                rendered
                                    .iter()
                                    .map(|f| (f.path.clone(), output.access.clone())),
                            );
                        }
                        result.files.extend(rendered);
                        result.records.push((
                            key,
                            OutputState {
                                service: service.name.clone(),
                                format: output.format.name().to_owned(),
                                digest,
                                files: written,
                            },
                        ));
                    }
                }
            }
        }
        for change in &mut result.changes {
            let found = change.path.as_ref().and_then(|p| foreign.remove(p));
            if let Some(found) = found {
                let what = if self.apply && self.adopt {
                    "taken over (--adopt)"
                } else {
                    "apply refuses to overwrite it unless given --adopt"
                };
                for file in &found {
                    change.reason.push_str(&format!(
                        "; {} exists and was not written by certfleet: {what}",
                        file.display()
                    ));
                }
                result.unrecorded.extend(found);
            }
        }
        Ok(result)
    }
}
