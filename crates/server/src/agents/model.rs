//! The platform models as the agent side reads them: the configured `[[platform]]`s, a
//! model's nodes and services, its internal CA's chain (for trust, without the key) and
//! its issuing CA (for signing). Every call reads the files afresh, so an edited model
//! counts at once. While a CA or keys rotation runs (`STATE/rotation.json` of the model's
//! layout), its phase decides which CA signs and which CAs the peers trust, as for
//! `apply` ([`certfleet_platform::rotation::phases`]).

use super::errors::AgentError;
use certfleet_config::PlatformConfig;
use certfleet_pki::authority::Authority;
use certfleet_pki::certs::parse_single_certificate;
use certfleet_platform::ca_dir::{load_issuing_ca, CaPaths};
use certfleet_platform::model::{parse, Locator};
use certfleet_platform::paths::Layout;
use certfleet_platform::rotation::phases::{self, Signing};
use certfleet_platform::rotation::record::{Kind, Record};
use certfleet_platform::spec::{usage_name, Platform, Service};
use rustls_pki_types::CertificateDer;
use std::path::PathBuf;
use std::time::SystemTime;

/// One configured platform's model, as it stands.
pub struct PlatformView {
    /// The `[[platform]]` block.
    pub config: PlatformConfig,
    /// The validated model.
    pub platform: Platform,
    /// Its `[[node]]` names, in model order.
    pub nodes: Vec<String>,
    /// The internal CA's directory, when a service uses the internal CA.
    pub ca_dir: Option<PathBuf>,
    /// The model's state directory (`STATE`), where a rotation's record lives.
    pub state_dir: PathBuf,
    /// The CA or keys rotation under way, as its record stood when the model was read.
    pub rotation: Option<Record>,
}

/// The `[[platform]]` named `name`; 404 naming it otherwise.
pub fn configured<'a>(
    platforms: &'a [PlatformConfig],
    name: &str,
) -> Result<&'a PlatformConfig, AgentError> {
    platforms.iter().find(|p| p.name == name).ok_or_else(|| {
        AgentError::not_found(format!(
            "platform {name} is not configured on this server (no [[platform]] with that model)"
        ))
    })
}

/// When the model file last changed (`None` when it cannot be read).
pub fn model_mtime(config: &PlatformConfig) -> Option<SystemTime> {
    std::fs::metadata(&config.model)
        .and_then(|m| m.modified())
        .ok()
}

/// Reads and validates the model of `config`.
pub fn load(config: &PlatformConfig) -> Result<PlatformView, AgentError> {
    let path = &config.model;
    let text = std::fs::read_to_string(path).map_err(|err| {
        AgentError::conflict(format!(
            "platform {}: cannot read the model {}: {err}",
            config.name,
            path.display()
        ))
    })?;
    let loc = Locator::new(&path.display().to_string(), &text);
    let invalid = |err: &dyn std::fmt::Display| {
        AgentError::conflict(format!(
            "platform {}: the model does not validate: {err}",
            config.name
        ))
    };
    let raw = parse(&loc, &text).map_err(|e| invalid(&e))?;
    let nodes = raw
        .node
        .iter()
        .map(|node| node.get_ref().name.get_ref().clone())
        .collect();
    let platform = certfleet_platform::validate::validate(&loc, &raw).map_err(|e| invalid(&e))?;
    let cwd = std::env::current_dir().map_err(AgentError::internal)?;
    let layout = Layout::new(path, config.root.as_deref(), &platform.name, &cwd);
    let ca_dir = if platform.uses_internal_ca() {
        Some(layout.ca_dir(&platform.ca_dir).map_err(|e| invalid(&e))?)
    } else {
        None
    };
    let state_dir = layout.state_dir().to_path_buf();
    let rotation = Record::load(&state_dir)
        .map_err(|err| AgentError::conflict(format!("platform {}: {err}", config.name)))?;
    Ok(PlatformView {
        config: config.clone(),
        platform,
        nodes,
        ca_dir,
        state_dir,
        rotation,
    })
}

impl PlatformView {
    /// Whether the model has a `[[node]]` called `node`.
    pub fn has_node(&self, node: &str) -> bool {
        self.nodes.iter().any(|n| n == node)
    }

    /// The services that run on `node`, in model order (a shared certificate's on each
    /// of its nodes).
    pub fn services_on<'a>(&'a self, node: &'a str) -> impl Iterator<Item = &'a Service> + 'a {
        self.platform
            .services
            .iter()
            .filter(move |s| s.node == node || s.nodes.iter().any(|n| n == node))
    }

    /// The service `name` when it runs on `node`; 403 otherwise (another node's service
    /// is none of this node's business, and an unknown one is treated alike).
    pub fn service_of_node(&self, node: &str, name: &str) -> Result<&Service, AgentError> {
        match self.platform.service(name) {
            Some(service) if service.node == node => Ok(service),
            _ => Err(AgentError::forbidden(format!(
                "service {name} does not run on node {node} in platform {}",
                self.platform.name
            ))),
        }
    }

    /// The CA rotation under way (root or intermediate), when one is.
    fn ca_rotation(&self) -> Option<&Record> {
        self.rotation.as_ref().filter(|r| r.kind != Kind::Keys)
    }

    /// The internal CA as the rotation's phase uses it (the CA as it is without one).
    fn signing(&self, dir: &std::path::Path) -> Result<Signing, String> {
        let load = |dir: &std::path::Path| load_issuing_ca(dir).map_err(|e| format!("{e:#}"));
        phases::signing(dir, self.rotation.as_ref(), &load).map_err(|e| e.to_string())
    }

    /// The internal CA's issuing chain handed out with leaves (the intermediate, then
    /// the root; during a CA rotation the chain of the CA the phase signs with), read
    /// without its key when no rotation runs; `None` when the CA does not exist yet.
    pub fn ca_chain(&self) -> Result<Option<Vec<CertificateDer<'static>>>, String> {
        let Some(dir) = &self.ca_dir else {
            return Ok(None);
        };
        let paths = CaPaths::new(dir);
        if !paths.root_crt.exists() {
            return Ok(None);
        }
        if self.ca_rotation().is_some() {
            return self
                .signing(dir)
                .map(|signing| Some(signing.authority.issuing_chain()));
        }
        let read = |path: &PathBuf| {
            std::fs::read(path)
                .map_err(|err| format!("{}: {err}", path.display()))
                .and_then(|bytes| {
                    parse_single_certificate(&bytes)
                        .map_err(|err| format!("{}: {err}", path.display()))
                })
        };
        let root = read(&paths.root_crt)?;
        let mut chain = Vec::new();
        if paths.intermediate_crt.exists() {
            chain.push(read(&paths.intermediate_crt)?);
        }
        chain.push(root);
        Ok(Some(chain))
    }

    /// What the peers of internal-CA services trust: the CA's issuing chain, or during a
    /// CA rotation the old and the new CA's as the phase wants; `None` when the CA does
    /// not exist yet.
    pub fn ca_anchors(&self) -> Result<Option<Vec<CertificateDer<'static>>>, String> {
        match (&self.ca_dir, self.ca_rotation()) {
            (Some(dir), Some(_)) if CaPaths::new(dir).root_crt.exists() => {
                self.signing(dir).map(|signing| Some(signing.anchors))
            }
            _ => self.ca_chain(),
        }
    }

    /// The internal CA, able to sign (during a CA rotation, the CA the phase signs with).
    pub fn authority(&self) -> Result<Authority, AgentError> {
        let dir = self.ca_dir.as_ref().ok_or_else(|| {
            AgentError::conflict(format!(
                "platform {} uses no internal CA",
                self.platform.name
            ))
        })?;
        self.signing(dir)
            .map(|signing| signing.authority)
            .map_err(|err| {
                AgentError::internal(format!(
                    "the internal CA of platform {}: {err}",
                    self.platform.name
                ))
            })
    }

    /// In phase reissue of a keys rotation, why `service`, whose stored certificate is
    /// `leaf_pem`, gets a new key: it still holds the certificate it had at the start.
    pub fn rekey_reason(&self, service: &str, leaf_pem: &str) -> Option<String> {
        let record = self.rotation.as_ref()?;
        let current = certfleet_pki::certs::parse_certificates(leaf_pem.as_bytes())
            .ok()?
            .first()
            .map(|leaf| certfleet_pki::inspect::fingerprint::sha1_thumbprint(leaf))?;
        phases::forced_rekey(Some(record), service, Some(&current))
    }

    /// Why the internal CA is not there, for an `Awaiting` answer.
    pub fn missing_ca_reason(&self) -> String {
        let dir = self
            .ca_dir
            .as_ref()
            .map_or_else(|| self.platform.ca_dir.clone(), |d| d.display().to_string());
        format!(
            "the platform's internal CA does not exist yet: make it with `certfleet ca init --out {dir}` (or a `certfleet apply` of the model)"
        )
    }
}

/// What the model asks of a service's certificate, as one comparable line: a stored
/// certificate issued for another line is issued again.
pub fn request_of(service: &Service) -> String {
    let sans: Vec<String> = service.sans.iter().map(|san| san.display()).collect();
    format!(
        "cn={}; sans={}; subject={:?}; usage={}; key={}; issuer={}",
        service.cn,
        sans.join(","),
        service.subject,
        usage_name(service.usage),
        service.key.name(),
        service.issuer.name()
    )
}
