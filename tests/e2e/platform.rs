//! `certfleet plan` and `certfleet apply` on the five example models in
//! `examples/`, one per seed system, each applied under a temporary `--root` and judged by
//! openssl and keytool:
//!
//! - plan lists changes and writes nothing; apply writes every output; a second plan is
//!   empty and a second apply writes nothing and runs no reload ([`examples`]);
//! - every connection of the model is played with `openssl s_server` / `s_client`, both
//!   sides verifying with the truststores and keystores as written; each truststore holds
//!   exactly what the connections imply, and a client that does not connect to a server
//!   cannot verify it;
//! - every JKS and PKCS#12 output opens in keytool with the reported password; reported
//!   thumbprints are openssl's; key files and keystores are mode 0600;
//! - the contact center's external CA round trip: CSR out, a reply with other names
//!   refused, the right reply imported ([`examples`]);
//! - changes after the first apply (a new connection, a re-key, a lost file, a failed
//!   reload) touch exactly what they must ([`changes`]);
//! - bad models exit 2 naming the line or key and write nothing ([`bad_models`]);
//! - reloads under `--root` only with `--reload`, `--no-reload`, pending reloads and
//!   time limits ([`reloads`]); a model others can change, files certfleet did not
//!   write, symbolic links out of the root, and modes under umask 000 ([`safety`]);
//! - the Windows lines of the next steps against the written certificates
//!   ([`windows_steps`]).

mod bad_models;
mod changes;
pub(crate) mod checks;
mod examples;
mod guards;
mod install_signed_tomcat_certificates;
mod material;
mod media_gateway_edge;
mod model;
mod output_access;
mod peer_keys;
mod publicly_signed_chat_certificate;
mod reloads;
mod restrict_inbound_connections;
mod safety;
mod third_party_chain_in_tomcat_trust;
mod tls;
mod validate_certificate_against_ca;
mod windows_steps;

use crate::support::run::{arg, certfleet, describe, TempDir};
use model::{copy_with_logged_reloads, examples_dir, Model};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::SystemTime;

/// One example model applied under a scratch root.
pub(crate) struct Run {
    /// Everything of the test: the model copy, `root/`, `work/`.
    pub dir: TempDir,
    /// The `--root`.
    pub root: PathBuf,
    /// The model copy with logged reloads.
    pub model_file: PathBuf,
    /// The test's reading of the model.
    pub model: Model,
    /// Where the rewritten reload commands append the service's name.
    pub reload_log: PathBuf,
}

impl Run {
    /// Copies `examples/<file>` into a scratch directory, reloads rewritten to log.
    pub fn new(file: &str) -> Run {
        let dir = TempDir::new();
        assert!(!arg(dir.path()).contains(char::is_whitespace));
        let root = dir.join("root");
        std::fs::create_dir(&root).unwrap();
        let reload_log = root.join("reloads.log");
        let model_file = dir.join(file);
        copy_with_logged_reloads(&examples_dir().join(file), &model_file, &reload_log);
        let model = Model::load(&model_file);
        Run {
            dir,
            root,
            model_file,
            model,
            reload_log,
        }
    }

    /// A scratch directory outside the root, for converted material.
    pub fn work(&self, name: &str) -> PathBuf {
        let path = self.dir.join("work").join(name);
        std::fs::create_dir_all(&path).unwrap();
        path
    }

    /// `certfleet <command> --model M --root R --json` (apply with `--reload`: the
    /// copy's reloads only log), as run.
    pub fn run(&self, command: &str) -> Output {
        let mut args = vec![
            command,
            "--model",
            arg(&self.model_file),
            "--root",
            arg(&self.root),
            "--json",
        ];
        if command == "apply" {
            args.push("--reload");
        }
        certfleet(&args)
    }

    /// `certfleet <command> ... --json`, which must succeed; its JSON.
    pub fn json(&self, command: &str) -> Value {
        let out = self.run(command);
        assert_eq!(
            out.status.code(),
            Some(0),
            "certfleet {command} failed\n{}",
            describe(&out)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "certfleet {command} --json printed no JSON document: {e}\n{}",
                describe(&out)
            )
        })
    }

    /// The state directory.
    pub fn state(&self) -> PathBuf {
        self.model.state_dir(&self.root)
    }

    /// `passwords.json`: written path to password.
    pub fn passwords(&self) -> BTreeMap<String, String> {
        let path = self.state().join("passwords.json");
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not a JSON object: {e}", path.display())),
            Err(_) => BTreeMap::new(),
        }
    }

    /// The services named in the reload log, in order.
    pub fn reloads(&self) -> Vec<String> {
        std::fs::read_to_string(&self.reload_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// Asserts that no file under `dir` was written, added or removed since `before` (a
/// [`snapshot`]); `what` names what ran in between.
pub(crate) fn assert_untouched(
    before: &BTreeMap<PathBuf, (SystemTime, u64)>,
    dir: &Path,
    what: &str,
) {
    let after = snapshot(dir);
    let touched: Vec<_> = after
        .iter()
        .filter(|(path, stamp)| before.get(*path) != Some(*stamp))
        .map(|(path, _)| path)
        .collect();
    assert!(
        touched.is_empty() && before.len() == after.len(),
        "{what} wrote {touched:?}"
    );
}

/// Every file under `dir` with its modification time and size.
pub(crate) fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (SystemTime, u64)> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                files.insert(entry.path(), (meta.modified().unwrap(), meta.len()));
            }
        }
    }
    files
}

/// The `changes` array of a plan or apply report.
pub(crate) fn changes(report: &Value) -> &Vec<Value> {
    report["changes"]
        .as_array()
        .unwrap_or_else(|| panic!("the report has no changes array:\n{report:#}"))
}
