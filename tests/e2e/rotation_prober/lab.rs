//! One example model applied under a scratch `--root`, its reloads rewritten to the
//! prober's markers, with the commands the rotation tests run on it (plan, apply, rotate)
//! and the external CA that answers its CSRs.

use crate::support::pki::Ca;
use crate::support::prober::{Markers, Prober, Site};
use crate::support::run::{arg, certfleet, describe, stdout_json, TempDir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

/// How long each prober client waits between two handshakes: enough handshakes in every
/// phase without starving `apply` of the machine's two cores, nor the loopback of ports.
const PACE: Duration = Duration::from_millis(20);

/// An example applied under a scratch root.
pub(crate) struct Lab {
    dir: TempDir,
    /// The example's file in `examples/`.
    pub source: PathBuf,
    /// The model copy the commands run on.
    pub model: PathBuf,
    /// The `--root`.
    pub root: PathBuf,
    /// The reload markers.
    pub markers: Markers,
}

impl Lab {
    /// Copies `examples/<example>` with marker reloads, applies it, and answers the CSRs
    /// of its externally signed services with a public CA of the test's, so that every
    /// service that can have its key deployed has it.
    pub fn new(example: &str) -> Lab {
        let dir = TempDir::new();
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples")
            .join(example);
        let lab = Lab {
            source,
            model: dir.join(example),
            root: dir.join("root"),
            markers: Markers::new(&dir.join("markers")),
            dir,
        };
        lab.rewrite(|_| {});
        lab.apply_ok("the first apply");
        if lab.answer_csrs() {
            lab.apply_ok("the apply with the external CA's replies");
        }
        lab
    }

    /// Writes the model copy again from the example, changed by `edit`.
    pub fn rewrite(&self, edit: impl FnOnce(&mut toml::Table)) {
        self.markers.write_model(&self.source, &self.model, edit);
    }

    /// The model as certfleet reads it, with its files under the root.
    pub fn site(&self) -> Site {
        Site::load(&self.model, &self.root)
    }

    /// A prober on every connection of the model.
    pub fn prober(&self) -> Prober {
        Prober::start(&self.model, &self.root, &self.markers, PACE)
    }

    /// `certfleet <args> --model M --root R`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--model", arg(&self.model), "--root", arg(&self.root)]);
        certfleet(&all)
    }

    /// `apply --reload --json` as run.
    pub fn apply(&self) -> Output {
        self.run(&["apply", "--reload", "--json"])
    }

    /// `apply --reload --json`, which must succeed (`what` names it); its report.
    pub fn apply_ok(&self, what: &str) -> Value {
        let out = self.apply();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{what} failed\n{}",
            describe(&out)
        );
        stdout_json(&out)
    }

    /// `plan --json`, which must succeed.
    pub fn plan(&self) -> Value {
        let out = self.run(&["plan", "--json"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "plan failed\n{}",
            describe(&out)
        );
        stdout_json(&out)
    }

    /// `rotate <args> --json`, which must succeed; its answer.
    pub fn rotate(&self, args: &[&str]) -> Value {
        let all: Vec<&str> = ["rotate"]
            .iter()
            .chain(args)
            .chain(&["--json"])
            .copied()
            .collect();
        let out = self.run(&all);
        assert_eq!(
            out.status.code(),
            Some(0),
            "rotate {args:?} failed\n{}",
            describe(&out)
        );
        stdout_json(&out)
    }

    /// Signs every CSR the first apply left for an external CA, as that CA would, and
    /// saves the reply where the next apply imports it. False when there was none.
    fn answer_csrs(&self) -> bool {
        let site = self.site();
        let csr_dir = site.state_dir().join("csr");
        let replies = site.state_dir().join("replies");
        let mut answered = false;
        for service in &site.platform.services {
            let csr = csr_dir.join(format!("{}.csr", service.name));
            if !csr.is_file() {
                continue;
            }
            let public_ca = self.dir.join("public-ca");
            if !public_ca.join("Public").exists() {
                std::fs::create_dir_all(&public_ca).unwrap();
                Ca::new(&public_ca, "Public");
            }
            std::fs::create_dir_all(&replies).unwrap();
            let reply = replies.join(format!("{}.crt", service.name));
            let out = certfleet(&[
                "csr",
                "sign",
                "--ca",
                arg(&public_ca.join("Public")),
                "--csr",
                arg(&csr),
                "--usage",
                "both",
                "--out",
                arg(&reply),
            ]);
            assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
            answered = true;
        }
        answered
    }
}
