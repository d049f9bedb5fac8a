//! The test's own reading of a platform model (with the `toml` crate, not certfleet's
//! parser): which services exist, which files each one should get, and who connects to
//! whom. What certfleet wrote is judged against this reading.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Value;

/// The examples directory of the repository.
pub(crate) fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// One `[[service.output]]`.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub format: String,
    pub path: String,
    pub alias: Option<String>,
    pub legacy: bool,
    pub bits: Option<i64>,
    /// A key-bearing keystore that holds the trust set too (`include_trust`).
    pub include_trust: bool,
}

impl Output {
    /// Where the output lands under `--root root`.
    pub fn placed(&self, root: &Path) -> PathBuf {
        root.join(self.path.trim_start_matches('/'))
    }

    /// Every file the output writes: `path.crt` and `path.key` for a PEM pair, else the
    /// path itself.
    pub fn files(&self, root: &Path) -> Vec<PathBuf> {
        let placed = self.placed(root);
        if self.format == "pem-pair" {
            vec![suffixed(&placed, ".crt"), suffixed(&placed, ".key")]
        } else {
            vec![placed]
        }
    }

    /// Holds the service's private key.
    pub fn has_key(&self) -> bool {
        matches!(
            self.format.as_str(),
            "pem-pair" | "merged" | "pkcs12" | "jks"
        )
    }

    /// Holds the service's trusted certificates: a truststore, or a keystore with
    /// `include_trust`.
    pub fn is_trust(&self) -> bool {
        self.include_trust
            || matches!(
                self.format.as_str(),
                "pem-trust" | "pkcs12-trust" | "jks-trust"
            )
    }

    /// Has a store password.
    pub fn is_keystore(&self) -> bool {
        matches!(
            self.format.as_str(),
            "pkcs12" | "jks" | "pkcs12-trust" | "jks-trust"
        )
    }
}

/// `path` + `suffix`.
pub(crate) fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// One `[[service]]`.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub name: String,
    pub node: String,
    pub usage: String,
    /// The effective issuer: the service's `ca`, else the platform's.
    pub ca: String,
    pub allowed_clients: Vec<String>,
    pub reload: Option<String>,
    pub outputs: Vec<Output>,
}

impl Service {
    /// Usage includes TLS server authentication.
    pub fn serves(&self) -> bool {
        self.usage != "client"
    }

    /// Usage includes TLS client authentication.
    pub fn is_client(&self) -> bool {
        self.usage != "server"
    }
}

/// One `[[connection]]`.
#[derive(Debug, Clone)]
pub(crate) struct Connection {
    pub from: String,
    pub to: String,
    pub mtls: bool,
}

/// A platform model as the test reads it.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub name: String,
    pub ca_dir: String,
    /// Node name to FQDN.
    pub fqdns: BTreeMap<String, String>,
    pub services: Vec<Service>,
    pub connections: Vec<Connection>,
}

fn text(table: &Value, key: &str) -> Option<String> {
    table.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn list(table: &Value, key: &str) -> Vec<String> {
    table
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn tables<'a>(doc: &'a Value, key: &str) -> &'a [Value] {
    doc.get(key)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
}

impl Model {
    /// Reads the model at `path`.
    pub fn load(path: &Path) -> Model {
        let source = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let doc: Value = toml::from_str(&source)
            .unwrap_or_else(|e| panic!("{} is not TOML: {e}", path.display()));
        let platform = doc.get("platform").expect("the model has a [platform]");
        let default_ca = text(platform, "ca").unwrap_or_else(|| "internal".into());
        let fqdns = tables(&doc, "node")
            .iter()
            .map(|n| (text(n, "name").unwrap(), text(n, "fqdn").unwrap()))
            .collect();
        let services = tables(&doc, "service")
            .iter()
            .map(|s| Service {
                name: text(s, "name").unwrap(),
                node: text(s, "node").unwrap(),
                usage: text(s, "usage").unwrap_or_else(|| "both".into()),
                ca: text(s, "ca").unwrap_or_else(|| default_ca.clone()),
                allowed_clients: list(s, "allowed_clients"),
                reload: text(s, "reload"),
                outputs: tables(s, "output")
                    .iter()
                    .map(|o| Output {
                        format: text(o, "format").unwrap(),
                        path: text(o, "path").unwrap(),
                        alias: text(o, "alias"),
                        legacy: o.get("legacy").and_then(Value::as_bool).unwrap_or(false),
                        bits: o.get("bits").and_then(Value::as_integer),
                        include_trust: o
                            .get("include_trust")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    })
                    .collect(),
            })
            .collect();
        let connections = tables(&doc, "connection")
            .iter()
            .map(|c| Connection {
                from: text(c, "from").unwrap(),
                to: text(c, "to").unwrap(),
                mtls: c.get("mtls").and_then(Value::as_bool).unwrap_or(false),
            })
            .collect();
        Model {
            name: text(platform, "name").unwrap(),
            ca_dir: text(platform, "ca_dir").unwrap_or_else(|| "ca".into()),
            fqdns,
            services,
            connections,
        }
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> &Service {
        self.services
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("the model has no service {name}"))
    }

    /// The FQDN of the node `service` runs on.
    pub fn fqdn(&self, service: &str) -> &str {
        &self.fqdns[&self.service(service).node]
    }

    /// The state directory under `root`.
    pub fn state_dir(&self, root: &Path) -> PathBuf {
        root.join(".certfleet").join(&self.name)
    }
}

/// Copies the model at `source` to `dest`, each service's `reload` replaced by a command
/// that appends the service's name to `log` (so the test sees which reloads ran).
pub(crate) fn copy_with_logged_reloads(source: &Path, dest: &Path, log: &Path) {
    let text = std::fs::read_to_string(source).unwrap();
    let mut service = String::new();
    let mut in_service = false;
    let mut out = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_service = trimmed == "[[service]]" || trimmed == "[[service.output]]";
        }
        if in_service && trimmed.starts_with("name") {
            if let Some(v) = trimmed.split('"').nth(1) {
                service = v.to_owned();
            }
        }
        if in_service && trimmed.starts_with("reload") {
            out.push_str(&format!(
                "reload = \"echo {service} >> {}\"\n",
                log.display()
            ));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    std::fs::write(dest, out).unwrap();
}
