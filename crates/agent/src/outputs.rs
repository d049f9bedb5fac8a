//! A service's outputs as files: each [`OutputSpec`] of the assignment becomes the
//! platform's [`Output`] and is rendered by `certfleet_platform::render` from the
//! node's key, the issued certificate and the trust set, with its password (the model's,
//! else one made on the node). An output whose inputs digest and files are as last
//! written is not rendered again (keystores carry random salts: re-rendering would change
//! their bytes and restart services for nothing).

use crate::atomic::Ownership;
use crate::data_dir::OutputRecord;
use crate::error::{AgentError, Result};
use crate::material;
use crate::passwords::Passwords;
use certfleet_api::agent::{OutputSpec, TrustedCertificate};
use certfleet_pki::keys::PrivateKey;
use certfleet_platform::paths::Layout;
use certfleet_platform::render::{self, Inputs, Leaf};
use certfleet_platform::spec::{Format, Output};
use certfleet_platform::trust::Anchor;
use rustls_pki_types::CertificateDer;
use std::collections::BTreeMap;
use std::path::PathBuf;
use zeroize::Zeroizing;

/// The service's certificate material.
pub struct Material<'a> {
    /// The node's key.
    pub key: &'a PrivateKey,
    /// The leaf.
    pub leaf: CertificateDer<'static>,
    /// Its issuing chain up to the root.
    pub chain: Vec<CertificateDer<'static>>,
}

/// One file to write.
pub struct PlannedFile {
    /// Where.
    pub path: PathBuf,
    /// The bytes (zeroized when dropped: they may hold a key).
    pub contents: Zeroizing<Vec<u8>>,
    /// Its mode and owner.
    pub ownership: Ownership,
}

/// One output, rendered or found as it should be.
pub struct PlannedOutput {
    /// Its placed path (the key of its record and its password).
    pub path: String,
    /// The digest of what it is made from.
    pub digest: String,
    /// Its files; empty when it is unchanged since it was last written.
    pub files: Vec<PlannedFile>,
    /// Every file it consists of, rendered or not.
    pub all_files: Vec<PathBuf>,
    /// Its format.
    pub format: Format,
    /// Its store password (keystores).
    pub password: Option<Zeroizing<String>>,
    /// Its JKS key password, when it differs.
    pub key_password: Option<String>,
}

/// The platform's output for an assignment's [`OutputSpec`].
pub fn to_platform_output(service: &str, spec: &OutputSpec) -> Result<Output> {
    let format = Format::parse(&spec.format).ok_or_else(|| {
        AgentError::Crypto(format!(
            "service {service}: output {}: unknown format '{}'",
            spec.path, spec.format
        ))
    })?;
    Ok(Output {
        format,
        path: spec.path.clone(),
        alias: spec.alias.clone(),
        password: spec.password.clone(),
        key_password: spec.key_password.clone(),
        legacy: spec.legacy,
        include_trust: spec.include_trust,
        bits: spec.bits,
        // The node applies the mode and owner itself (`ids`, `mode_of`).
        access: Default::default(),
        line: 0,
    })
}

/// The trust set as the platform's anchors.
pub fn anchors(service: &str, trust: &[TrustedCertificate]) -> Result<Vec<Anchor>> {
    trust
        .iter()
        .map(|t| {
            let der = material::first_certificate(
                &format!("service {service}: trusted {}", t.subject),
                &t.pem,
            )?;
            Ok(Anchor {
                der: der.as_ref().to_vec(),
                subject: t.subject.clone(),
                sha1: t.sha1.clone(),
            })
        })
        .collect()
}

/// The uid and gid of an output's `owner` and `group` names.
fn ids(spec: &OutputSpec) -> Result<(Option<u32>, Option<u32>)> {
    let lookup_failed = |what: &str, name: &str, e: String| {
        AgentError::file(
            std::path::Path::new(&spec.path),
            format!("{what} '{name}': {e}"),
        )
    };
    let uid = match &spec.owner {
        Some(name) => Some(
            nix::unistd::User::from_name(name)
                .map_err(|e| lookup_failed("owner", name, e.to_string()))?
                .ok_or_else(|| lookup_failed("owner", name, "no such user".into()))?
                .uid
                .as_raw(),
        ),
        None => None,
    };
    let gid = match &spec.group {
        Some(name) => Some(
            nix::unistd::Group::from_name(name)
                .map_err(|e| lookup_failed("group", name, e.to_string()))?
                .ok_or_else(|| lookup_failed("group", name, "no such group".into()))?
                .gid
                .as_raw(),
        ),
        None => None,
    };
    Ok((uid, gid))
}

/// A file's mode: the output's, else 0600 for secrets and 0644 otherwise; a secret file
/// is never readable by everyone.
fn mode_of(spec: &OutputSpec, secret: bool) -> u32 {
    match (spec.mode, secret) {
        (Some(mode), true) => mode & 0o770,
        (Some(mode), false) => mode & 0o7777,
        (None, true) => 0o600,
        (None, false) => 0o644,
    }
}

/// Everything a service's outputs are made from.
pub struct ServiceInputs<'a> {
    /// The service.
    pub service: &'a str,
    /// Its outputs.
    pub specs: &'a [OutputSpec],
    /// Its certificate material.
    pub material: &'a Material<'a>,
    /// Its trust set.
    pub trusted: &'a [Anchor],
    /// Where paths are placed.
    pub layout: &'a Layout,
    /// The digest salt of the data directory.
    pub salt: &'a str,
    /// What each output was last written from.
    pub prior: &'a BTreeMap<String, OutputRecord>,
}

/// The outputs of a service, rendered where they changed.
pub fn plan(inputs: &ServiceInputs<'_>, passwords: &mut Passwords) -> Result<Vec<PlannedOutput>> {
    let service = inputs.service;
    let mut planned = Vec::with_capacity(inputs.specs.len());
    for spec in inputs.specs {
        let output = to_platform_output(service, spec)?;
        let placed = inputs.layout.place(&spec.path).map_err(|e| {
            AgentError::Crypto(format!("service {service}: output {}: {e}", spec.path))
        })?;
        let placed_text = placed.display().to_string();
        let password = match (&spec.password, output.format.is_keystore()) {
            (Some(given), _) => Some(Zeroizing::new(given.clone())),
            (None, true) => Some(passwords.get_or_make(service, &placed_text)?),
            (None, false) => None,
        };
        let render_inputs = Inputs {
            output: &output,
            leaf: Some(Leaf {
                key: Some(inputs.material.key),
                cert: &inputs.material.leaf,
                chain: &inputs.material.chain,
            }),
            trusted: inputs.trusted,
            password: password.as_deref().map(String::as_str),
            key_password: spec.key_password.as_deref(),
        };
        let digest = render::digest(inputs.salt, &render_inputs);
        let all_files: Vec<PathBuf> = render::files_of(output.format, &placed)
            .into_iter()
            .map(|(path, _)| path)
            .collect();
        if unchanged(inputs.prior.get(&placed_text), &digest, &all_files) {
            planned.push(PlannedOutput {
                path: placed_text,
                digest,
                files: Vec::new(),
                all_files,
                format: output.format,
                password,
                key_password: spec.key_password.clone(),
            });
            continue;
        }
        let (uid, gid) = ids(spec)?;
        let files = render::render(&placed, &render_inputs)
            .map_err(|e| AgentError::Crypto(format!("service {service}: {e}")))?
            .into_iter()
            .map(|write| PlannedFile {
                ownership: Ownership {
                    mode: mode_of(spec, write.secret),
                    uid,
                    gid,
                },
                path: write.path,
                contents: write.contents,
            })
            .collect();
        planned.push(PlannedOutput {
            path: placed_text,
            digest,
            files,
            all_files,
            format: output.format,
            password,
            key_password: spec.key_password.clone(),
        });
    }
    Ok(planned)
}

/// True when the output was last made from the same inputs and every file of it is
/// still what was written.
fn unchanged(prior: Option<&OutputRecord>, digest: &str, files: &[PathBuf]) -> bool {
    let Some(prior) = prior else { return false };
    prior.digest == digest
        && files.iter().all(|path| {
            let recorded = prior.files.get(&path.display().to_string());
            let on_disk = std::fs::read(path).ok().map(|b| material::sha256_hex(&b));
            recorded.is_some() && recorded.cloned() == on_disk
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(format: &str, mode: Option<u32>) -> OutputSpec {
        OutputSpec {
            format: format.into(),
            path: "/o/x".into(),
            alias: None,
            password: None,
            key_password: None,
            legacy: false,
            include_trust: false,
            bits: 2048,
            mode,
            owner: None,
            group: None,
        }
    }

    #[test]
    fn modes_default_by_secrecy_and_secrets_never_go_to_everyone() {
        assert_eq!(mode_of(&spec("pem-pair", None), true), 0o600);
        assert_eq!(mode_of(&spec("pem-pair", None), false), 0o644);
        assert_eq!(mode_of(&spec("pem-pair", Some(0o644)), true), 0o640);
        assert_eq!(mode_of(&spec("pem-pair", Some(0o640)), false), 0o640);
        let e = to_platform_output("web", &spec("zip", None))
            .unwrap_err()
            .to_string();
        assert!(e.contains("web") && e.contains("'zip'"), "{e}");
    }

    #[test]
    fn a_keystore_that_includes_its_trust_set_keeps_it_on_the_node() {
        let mut transport = spec("pkcs12", None);
        transport.include_trust = true;
        assert!(to_platform_output("es", &transport).unwrap().holds_trust());
        assert!(!to_platform_output("es", &spec("pkcs12", None))
            .unwrap()
            .holds_trust());
    }

    #[test]
    fn outputs_as_last_written_are_not_rendered_again_and_a_changed_file_is() {
        use certfleet_testkit::{server_leaf, TestCa};
        let ca = TestCa::with_intermediate("Shop Root CA", "Shop Issuing CA");
        let leaf = ca.issue(&server_leaf("web.shop.test"));
        let material = Material {
            key: &leaf.key,
            leaf: leaf.cert.clone(),
            chain: leaf.chain.clone(),
        };
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(
            &dir.path().join("agent.toml"),
            Some(&dir.path().join("out")),
            "shop",
            dir.path(),
        );
        let mut passwords = Passwords::load(&dir.path().join("passwords.json")).unwrap();
        let mut pair = spec("pem-pair", None);
        pair.path = "tls/web".into();
        let mut store = spec("pkcs12", None);
        store.path = "/tls/web.p12".into();
        store.alias = Some("web".into());
        let specs = [pair, store];
        let mut prior = BTreeMap::new();
        let plan_now = |prior: &BTreeMap<String, OutputRecord>, passwords: &mut Passwords| {
            plan(
                &ServiceInputs {
                    service: "web",
                    specs: &specs,
                    material: &material,
                    trusted: &[],
                    layout: &layout,
                    salt: "salt",
                    prior,
                },
                passwords,
            )
            .unwrap()
        };
        let first = plan_now(&prior, &mut passwords);
        assert_eq!(first.len(), 2);
        // Both paths are placed under the root, the absolute one too.
        assert_eq!(
            first[1].path,
            dir.path().join("out/tls/web.p12").display().to_string()
        );
        crate::install::install(first.iter().flat_map(|o| o.files.iter())).unwrap();
        for output in &first {
            let files = output
                .all_files
                .iter()
                .map(|p| {
                    let bytes = std::fs::read(p).unwrap();
                    (p.display().to_string(), material::sha256_hex(&bytes))
                })
                .collect();
            prior.insert(
                output.path.clone(),
                OutputRecord {
                    digest: output.digest.clone(),
                    files,
                },
            );
        }
        let again = plan_now(&prior, &mut passwords);
        assert!(again.iter().all(|o| o.files.is_empty()));
        // A key file changed on disk: only its output is rendered again.
        std::fs::write(dir.path().join("out/tls/web.key"), "edited").unwrap();
        let after_edit = plan_now(&prior, &mut passwords);
        assert_eq!(after_edit[0].files.len(), 2);
        assert!(after_edit[1].files.is_empty());
    }

    #[test]
    fn unknown_owners_are_named() {
        let mut s = spec("pem-pair", None);
        s.owner = Some("no-such-user-certfleet".into());
        let e = ids(&s).unwrap_err().to_string();
        assert!(e.contains("owner 'no-such-user-certfleet'"), "{e}");
    }
}
