//! Whether the leaf is publicly trusted: its path reaches a root of the system trust
//! store ([`super::LintInput::system_roots`]), so the CA/Browser Forum Baseline
//! Requirements bind it. A private CA's certificates are not bound by them.

use super::chain::Layout;
use super::Cert;
use rustls_pki_types::CertificateDer;

/// The subject of the system root the leaf's path reaches, or `None` when it reaches
/// none (a private CA, or no system roots given).
///
/// The path reaches a system root when one of its CA certificates is that root (same
/// DER), or when the last certificate of the path is not self-issued and a system root
/// with its issuer's name verifies its signature.
pub(crate) fn reached_root(
    certs: &[Cert<'_>],
    layout: &Layout,
    system_roots: &[CertificateDer<'static>],
) -> Option<String> {
    if system_roots.is_empty() {
        return None;
    }
    let path_cas = layout
        .path
        .iter()
        .filter(|&&slot| slot != layout.leaf)
        .map(|&slot| &certs[slot])
        .filter(|cert| cert.is_ca);
    for cert in path_cas {
        if system_roots
            .iter()
            .any(|root| root.as_ref() == cert.x509.as_raw())
        {
            return Some(cert.subject());
        }
    }
    let top = &certs[*layout.path.last().unwrap_or(&layout.leaf)];
    if top.self_issued {
        return None;
    }
    system_roots.iter().find_map(|der| {
        let (_, root) = x509_parser::parse_x509_certificate(der).ok()?;
        let named = root.subject().as_raw() == top.x509.issuer().as_raw();
        let signed = named && top.x509.verify_signature(Some(root.public_key())).is_ok();
        signed.then(|| root.subject().to_string())
    })
}
