//! What a finished rotation must have left: no deployed output holding, or holding a
//! certificate issued by, a CA that left the platform; every certificate of the internal
//! CA's services issued by the CA now in the CA directory; and, after a key rotation,
//! new keys.

use crate::support::prober::{deployed_certificates, read_material, Site};
use certfleet_platform::spec::IssuerKind;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use std::collections::BTreeMap;
use std::path::Path;

/// The certificates `names` (e.g. `root.crt`) of the CA directory `dir` that exist.
pub(crate) fn ca_certificates(dir: &Path, names: &[&str]) -> Vec<CertificateDer<'static>> {
    names
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.is_file())
        .flat_map(|path| {
            CertificateDer::pem_file_iter(&path)
                .unwrap()
                .map(|c| c.unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The current CA's root and issuing certificates.
pub(crate) fn current_ca(site: &Site) -> Vec<CertificateDer<'static>> {
    ca_certificates(&site.ca_dir(), &["root.crt", "intermediate.crt"])
}

/// The CA a rotation is bringing in, while it runs.
pub(crate) fn next_ca(site: &Site) -> Vec<CertificateDer<'static>> {
    ca_certificates(
        &site.ca_dir().join("next"),
        &["root.crt", "intermediate.crt"],
    )
}

fn issued_by_any(cert: &CertificateDer<'static>, issuers: &[CertificateDer<'static>]) -> bool {
    let (above, _) = certfleet_pki::chain::order_chain(cert, issuers);
    !above.is_empty()
}

/// Asserts that no deployed output holds one of `gone` or a certificate one of them
/// issued; `what` names them for the message.
pub(crate) fn assert_nothing_from(site: &Site, gone: &[CertificateDer<'static>], what: &str) {
    assert!(
        !gone.is_empty(),
        "no certificates of the {what} to look for"
    );
    for (file, certs) in deployed_certificates(site) {
        for (index, cert) in certs.iter().enumerate() {
            assert!(
                !gone.contains(cert),
                "{} still holds a certificate of the {what} (certificate {})",
                file.display(),
                index + 1
            );
            assert!(
                !issued_by_any(cert, gone),
                "{} still holds a certificate issued by the {what} (certificate {})",
                file.display(),
                index + 1
            );
        }
    }
}

/// Asserts that the leaf of every key output of the internal CA's services was issued by
/// the CA now in the CA directory.
pub(crate) fn assert_leaves_from_current_ca(site: &Site) {
    let ca = current_ca(site);
    for service in &site.platform.services {
        if service.issuer != IssuerKind::Internal {
            continue;
        }
        let material = read_material(site, service).unwrap();
        for identity in &material.identities {
            assert!(
                issued_by_any(&identity.chain[0], &ca),
                "{}: the certificate of {} was not issued by the CA in {}",
                identity.file.display(),
                service.name,
                site.ca_dir().display()
            );
        }
    }
}

/// Every deployed key of the services certfleet issues to, by key file, as PKCS#8 or
/// PEM-decoded DER (to compare before and after a key rotation).
pub(crate) fn deployed_keys(site: &Site) -> BTreeMap<String, Vec<u8>> {
    let mut keys = BTreeMap::new();
    for service in &site.platform.services {
        if !matches!(
            service.issuer,
            IssuerKind::Internal | IssuerKind::SelfSigned
        ) {
            continue;
        }
        for identity in read_material(site, service).unwrap().identities {
            keys.insert(
                format!("{} ({})", service.name, identity.file.display()),
                identity.key.secret_der().to_vec(),
            );
        }
    }
    keys
}
