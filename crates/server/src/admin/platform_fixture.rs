//! A platform model for tests of the platform API and pages: one internal CA, a server
//! `web` and a client `agent` that connects to it with mutual TLS, and a server
//! configuration naming it, outputs under a scratch root.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use certfleet_config::ServerConfig;
use std::path::{Path, PathBuf};

/// The model; `web` reloads by appending a line to `marker`.
pub fn model(marker: &Path) -> String {
    format!(
        r#"[platform]
name = "lab"
ca = "internal"
ca_dir = "ca"

[[node]]
name = "n1"
fqdn = "n1.lab.example.test"
ips = ["10.0.0.1"]

[[service]]
name = "web"
node = "n1"
usage = "server"
allowed_clients = ["agent"]
reload = "echo reloaded >> {marker}"

[[service.output]]
format = "pem-pair"
path = "/opt/web/tls"

[[service.output]]
format = "pem-trust"
path = "/opt/web/clients.pem"

[[service]]
name = "agent"
node = "n1"
usage = "client"

[[service.output]]
format = "pkcs12"
path = "/opt/agent/agent.p12"
alias = "agent"

[[service.output]]
format = "pem-trust"
path = "/opt/agent/trust.pem"

[[connection]]
from = "agent"
to = "web"
mtls = true
"#,
        marker = marker.display()
    )
}

/// Where the lab's files are.
pub struct LabPaths {
    /// The model file.
    pub model: PathBuf,
    /// The outputs' root.
    pub root: PathBuf,
    /// What `web`'s reload appends to.
    pub marker: PathBuf,
}

/// Writes the model and a server configuration naming it into `dir`, and loads that
/// configuration (data directory `dir/data`).
pub fn lab_config(dir: &Path, run_reloads: bool) -> (ServerConfig, LabPaths) {
    let paths = LabPaths {
        model: dir.join("lab.toml"),
        root: dir.join("stage"),
        marker: dir.join("reloads.log"),
    };
    std::fs::write(&paths.model, model(&paths.marker)).unwrap();
    let config_path = dir.join("certfleet.toml");
    std::fs::write(
        &config_path,
        format!(
            "[[platform]]\nmodel = \"{}\"\nroot = \"{}\"\nrun_reloads = {run_reloads}\n",
            paths.model.display(),
            paths.root.display()
        ),
    )
    .unwrap();
    let config = certfleet_config::load(Some(&config_path), Some(&dir.join("data"))).unwrap();
    (config, paths)
}
