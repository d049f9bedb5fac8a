//! `certfleet rotate` offline: a small two-node model under `--root` taken through a CA
//! rotation one apply per phase, judged by openssl after every apply:
//!
//! - a root rotation, with plan's text and JSON at each phase, truststores holding old and
//!   new CA in phase 1, leaves chaining to the new CA in phase 2, and after phase 3 no
//!   output holding or chaining to the old CA, which sits in `retired/` ([`phases`]);
//! - a failed reload holds phase 2 until a later apply succeeds, and a rollback from
//!   phase 2 leads back to the old CA only ([`rollback`]);
//! - a new intermediate under the same root, a cross-signed root, and new keys for one
//!   service ([`other_kinds`]).

mod other_kinds;
mod phases;
mod rollback;

use crate::support::openssl::openssl_verify;
use crate::support::run::{arg, certfleet, describe, TempDir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The model: `data` on n1 (server, mutual TLS) and `rec` on n2 (its client), both from
/// the internal CA, each with a PEM pair and a PEM truststore; `gw` self-signed on n2.
/// `data`'s reload fails while the file FAIL exists in the test's directory.
const MODEL: &str = r#"[platform]
name = "rot"
key = "ecdsa-p256"

[[node]]
name = "n1"
fqdn = "n1.rot.test"

[[node]]
name = "n2"
fqdn = "n2.rot.test"

[[service]]
name = "data"
node = "n1"
allowed_clients = ["rec"]
reload = "test ! -e DIR/FAIL && echo data >> DIR/reloads.log"

[[service.output]]
format = "pem-pair"
path = "/srv/data/tls"

[[service.output]]
format = "pem-trust"
path = "/srv/data/trust.pem"

[[service]]
name = "rec"
node = "n2"
cn = "rec.rot.test"
reload = "echo rec >> DIR/reloads.log"

[[service.output]]
format = "pem-pair"
path = "/srv/rec/tls"

[[service.output]]
format = "pem-trust"
path = "/srv/rec/trust.pem"

[[service]]
name = "gw"
node = "n2"
ca = "self-signed"
cn = "gw.rot.test"

[[service.output]]
format = "pem-pair"
path = "/srv/gw/tls"

[[connection]]
from = "rec"
to = "data"
mtls = true

[[connection]]
from = "data"
to = "gw"
"#;

/// The model applied once under a scratch root.
pub(crate) struct Lab {
    dir: TempDir,
    model: PathBuf,
    root: PathBuf,
}

impl Lab {
    /// Writes the model and applies it once.
    fn new() -> Lab {
        let dir = TempDir::new();
        let model = dir.join("model.toml");
        std::fs::write(&model, MODEL.replace("DIR", arg(dir.path()))).unwrap();
        let root = dir.join("root");
        let lab = Lab { dir, model, root };
        lab.apply_ok();
        lab
    }

    /// `certfleet ARGS --model M --root R`.
    fn run(&self, args: &[&str]) -> Output {
        let base = ["--model", arg(&self.model), "--root", arg(&self.root)];
        certfleet(&[args, &base[..]].concat())
    }

    /// Runs `args` with `--json`, expecting exit status `code`; its JSON.
    fn json(&self, args: &[&str], code: i32) -> Value {
        let out = self.run(&[args, &["--json"]].concat());
        assert_eq!(
            out.status.code(),
            Some(code),
            "certfleet {args:?}\n{}",
            describe(&out)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("no JSON from {args:?}: {e}\n{}", describe(&out)))
    }

    /// `plan --json`.
    fn plan(&self) -> Value {
        self.json(&["plan"], 0)
    }

    /// `plan` as text, which must succeed.
    fn plan_text(&self) -> String {
        let out = self.run(&["plan"]);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `apply --reload --json`, which must succeed.
    fn apply_ok(&self) -> Value {
        self.json(&["apply", "--reload"], 0)
    }

    /// A file under the root.
    fn file(&self, path: &str) -> PathBuf {
        self.root.join(path.trim_start_matches('/'))
    }

    /// The CA directory.
    fn ca(&self, name: &str) -> PathBuf {
        self.file("ca").join(name)
    }

    /// The state directory.
    fn state(&self) -> PathBuf {
        self.root.join(".certfleet/rot")
    }

    /// Makes `data`'s reload fail (or succeed again).
    fn fail_data_reload(&self, fail: bool) {
        let marker = self.dir.join("FAIL");
        if fail {
            std::fs::write(marker, "").unwrap();
        } else {
            std::fs::remove_file(marker).unwrap();
        }
    }
}

/// The certificates of a PEM file, each as its base64 text without line breaks.
pub(crate) fn pem_certs(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .map(|block| {
            block
                .split("-----END CERTIFICATE-----")
                .next()
                .unwrap()
                .split_whitespace()
                .collect()
        })
        .collect()
}

/// The one certificate of a PEM file.
pub(crate) fn pem_cert(path: &Path) -> String {
    let certs = pem_certs(path);
    assert_eq!(
        certs.len(),
        1,
        "{} holds {} certificates",
        path.display(),
        certs.len()
    );
    certs[0].clone()
}

/// openssl verifies `leaf` (the leaf then its chain, as written) against `anchors`.
pub(crate) fn verifies(anchors: &Path, leaf: &Path) -> Result<(), String> {
    openssl_verify(anchors, Some(leaf), leaf)
}

/// The rotation of a plan or apply answer, which must be there.
pub(crate) fn rotation(report: &Value) -> &Value {
    let rotation = &report["rotation"];
    assert!(rotation.is_object(), "no rotation in:\n{report:#}");
    rotation
}

/// The outputs `rotation` still has to write for `service` on `node`.
pub(crate) fn remaining(rotation: &Value, node: &str, service: &str) -> Vec<String> {
    rotation["remaining"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["node"] == node && r["service"] == service)
        .flat_map(|r| r["outputs"].as_array().unwrap().iter())
        .map(|p| p.as_str().unwrap().to_owned())
        .collect()
}
