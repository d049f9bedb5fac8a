//! A service's deployed files read as the service itself reads them: its key and chain
//! from every output that holds its key (PEM pair, merged PEM, PKCS#12, JKS) and its
//! trusted certificates from every truststore output (PEM, PKCS#12, JKS), keystores
//! opened with the model's password or the one `apply` recorded in `passwords.json`, with
//! certfleet's own keystore reader. The model is read with certfleet's platform crate, so
//! paths land where `apply --root` put them.

use certfleet_platform::paths::Layout;
use certfleet_platform::spec::{Format, Output, Platform, Service};
use certfleet_platform::state::Passwords;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::{Path, PathBuf};

/// A model applied under a root: the platform as certfleet validates it, and where its
/// files are.
pub struct Site {
    /// The validated model.
    pub platform: Platform,
    /// Where outputs, CA and state directory are.
    pub layout: Layout,
}

impl Site {
    /// Reads `model` as applied with `--root root`.
    pub fn load(model: &Path, root: &Path) -> Site {
        let platform = certfleet_platform::engine::load_model(model)
            .unwrap_or_else(|e| panic!("{} does not load: {e}", model.display()));
        let cwd = std::env::current_dir().unwrap();
        let layout = Layout::new(model, Some(root), &platform.name, &cwd);
        Site { platform, layout }
    }

    /// The service called `name`.
    pub fn service(&self, name: &str) -> &Service {
        self.platform
            .service(name)
            .unwrap_or_else(|| panic!("the model has no service {name}"))
    }

    /// Where `output` is written.
    pub fn placed(&self, output: &Output) -> PathBuf {
        self.layout
            .place(&output.path)
            .unwrap_or_else(|e| panic!("output {}: {e}", output.path))
    }

    /// The files `output` consists of (`PATH.crt` and `PATH.key` for a PEM pair).
    pub fn files(&self, output: &Output) -> Vec<PathBuf> {
        certfleet_platform::render::files_of(output.format, &self.placed(output))
            .into_iter()
            .map(|(file, _)| file)
            .collect()
    }

    /// True when every file of `output` exists.
    pub fn is_written(&self, output: &Output) -> bool {
        self.files(output).iter().all(|f| f.is_file())
    }

    /// The internal CA's directory.
    pub fn ca_dir(&self) -> PathBuf {
        self.layout.ca_dir(&self.platform.ca_dir).unwrap()
    }

    /// The state directory.
    pub fn state_dir(&self) -> &Path {
        self.layout.state_dir()
    }
}

/// A key and the chain served with it, from one output.
pub struct Identity {
    /// The output's file (the `.key` of a PEM pair).
    pub file: PathBuf,
    /// Leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key.
    pub key: PrivateKeyDer<'static>,
}

/// The certificates one truststore output holds.
pub struct Anchors {
    /// The truststore's file.
    pub file: PathBuf,
    /// Its certificates.
    pub certs: Vec<CertificateDer<'static>>,
}

/// Everything TLS-related a service reads from its deployed files.
pub struct Material {
    /// One per output holding the service's key, in model order.
    pub identities: Vec<Identity>,
    /// One per truststore output, in model order.
    pub anchors: Vec<Anchors>,
}

/// Reads every key and truststore output of `service` as deployed now. A keystore that
/// holds trusted certificates beside the key (Elasticsearch's `transport.p12`) counts as
/// a truststore too.
pub fn read_material(site: &Site, service: &Service) -> Result<Material, String> {
    let passwords = load_passwords(site)?;
    let mut material = Material {
        identities: Vec::new(),
        anchors: Vec::new(),
    };
    for output in &service.outputs {
        if output.format.needs_key() {
            material
                .identities
                .push(read_identity(site, &passwords, output)?);
            if let Some(anchors) = trusted_entries(site, &passwords, output)? {
                material.anchors.push(anchors);
            }
        } else if output.format.is_trust() {
            let file = site.placed(output);
            let certs = output_certificates(site, &passwords, output)?;
            material.anchors.push(Anchors { file, certs });
        }
    }
    Ok(material)
}

/// The trusted-certificate entries of a keystore key output, if it has any.
fn trusted_entries(
    site: &Site,
    passwords: &Passwords,
    output: &Output,
) -> Result<Option<Anchors>, String> {
    if !matches!(output.format, Format::Pkcs12 | Format::Jks) {
        return Ok(None);
    }
    let file = site.placed(output);
    let store = open_keystore(passwords, output, &file)?;
    let certs: Vec<CertificateDer<'static>> = store
        .entries
        .iter()
        .filter(|e| !e.is_private_key())
        .flat_map(|e| e.certificates())
        .map(|der| CertificateDer::from(der.to_vec()))
        .collect();
    Ok((!certs.is_empty()).then_some(Anchors { file, certs }))
}

/// `passwords.json` of the site.
pub fn load_passwords(site: &Site) -> Result<Passwords, String> {
    Passwords::load(&site.layout.passwords_file()).map_err(|e| e.to_string())
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn pem_certificates(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e:?}", path.display()))
}

/// The store password of a keystore output: the model's when it gives one in clear, else
/// the one `apply` recorded. (A `CRYPT:` password needs the master key, which these
/// tests do not use.)
fn password<'a>(
    passwords: &'a Passwords,
    placed: &Path,
    output: &'a Output,
) -> Result<&'a str, String> {
    match output.password.as_deref() {
        Some(p) if p.starts_with(certfleet_secrets::CRYPT_PREFIX) => Err(format!(
            "{}: a CRYPT: password needs the master key",
            placed.display()
        )),
        Some(p) => Ok(p),
        None => passwords
            .get(&placed.display().to_string())
            .ok_or_else(|| format!("passwords.json has no password for {}", placed.display())),
    }
}

fn open_keystore(
    passwords: &Passwords,
    output: &Output,
    placed: &Path,
) -> Result<certfleet_formats::keystore::Keystore, String> {
    let bytes = read(placed)?;
    let store_password = password(passwords, placed, output)?;
    let key_password = output
        .key_password
        .as_deref()
        .filter(|p| !p.starts_with(certfleet_secrets::CRYPT_PREFIX));
    certfleet_formats::keystore::read_with_key_password(&bytes, store_password, key_password)
        .map(|(_, store)| store)
        .map_err(|e| format!("{}: {e}", placed.display()))
}

fn read_identity(site: &Site, passwords: &Passwords, output: &Output) -> Result<Identity, String> {
    let placed = site.placed(output);
    match output.format {
        Format::PemPair => {
            let files = site.files(output);
            let (crt, key) = (&files[0], &files[1]);
            let chain = pem_certificates(crt, &read(crt)?)?;
            let key_bytes = read(key)?;
            let key_der = PrivateKeyDer::from_pem_slice(&key_bytes)
                .map_err(|e| format!("{}: {e:?}", key.display()))?;
            identity(key.clone(), chain, key_der)
        }
        Format::Merged => {
            let bytes = read(&placed)?;
            let chain = pem_certificates(&placed, &bytes)?;
            let key_der = PrivateKeyDer::from_pem_slice(&bytes)
                .map_err(|e| format!("{}: {e:?}", placed.display()))?;
            identity(placed, chain, key_der)
        }
        Format::Pkcs12 | Format::Jks => {
            let store = open_keystore(passwords, output, &placed)?;
            let entry = match output.alias.as_deref() {
                Some(alias) => store.get(alias),
                None => store.entries.iter().find(|e| e.is_private_key()),
            };
            match entry {
                Some(certfleet_formats::keystore::Entry::PrivateKey {
                    pkcs8_der, chain, ..
                }) => identity(
                    placed.clone(),
                    chain
                        .iter()
                        .map(|der| CertificateDer::from(der.clone()))
                        .collect(),
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pkcs8_der.to_vec())),
                ),
                _ => Err(format!(
                    "{}: no private key entry under the alias {:?}",
                    placed.display(),
                    output.alias
                )),
            }
        }
        other => Err(format!(
            "{}: format {} holds no key",
            placed.display(),
            other.name()
        )),
    }
}

fn identity(
    file: PathBuf,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Identity, String> {
    if chain.is_empty() {
        return Err(format!("{}: no certificate", file.display()));
    }
    Ok(Identity { file, chain, key })
}

/// Every certificate `output` holds as deployed: chains, leaves and trusted entries.
/// Nothing for a Diffie-Hellman file.
pub fn output_certificates(
    site: &Site,
    passwords: &Passwords,
    output: &Output,
) -> Result<Vec<CertificateDer<'static>>, String> {
    let placed = site.placed(output);
    match output.format {
        Format::PemPair => {
            let crt = &site.files(output)[0];
            pem_certificates(crt, &read(crt)?)
        }
        Format::Merged | Format::PemTrust | Format::PemChain => {
            pem_certificates(&placed, &read(&placed)?)
        }
        Format::Der => Ok(vec![CertificateDer::from(read(&placed)?)]),
        Format::Pkcs12 | Format::Jks | Format::Pkcs12Trust | Format::JksTrust => {
            let store = open_keystore(passwords, output, &placed)?;
            Ok(store
                .entries
                .iter()
                .flat_map(|e| e.certificates())
                .map(|der| CertificateDer::from(der.to_vec()))
                .collect())
        }
        Format::Dhparam => Ok(Vec::new()),
    }
}

/// Every written output of every service with the certificates it holds, for checks on
/// what a rotation left behind.
pub fn deployed_certificates(site: &Site) -> Vec<(PathBuf, Vec<CertificateDer<'static>>)> {
    let passwords = load_passwords(site).unwrap();
    site.platform
        .services
        .iter()
        .flat_map(|service| service.outputs.iter())
        .filter(|output| site.is_written(output))
        .map(|output| {
            let certs = output_certificates(site, &passwords, output)
                .unwrap_or_else(|e| panic!("cannot read a deployed output: {e}"));
            (site.placed(output), certs)
        })
        .collect()
}
