//! The installation's default certificate: generated on first start,
//! never shipped with the program, so no two installations share a key.
//!
//! It is a self-signed ECDSA P-256 leaf for `localhost` (CN, and SANs `localhost`,
//! `127.0.0.1`, `::1`): a certificate that honestly claims no public name, useful for
//! local access, and obviously untrusted elsewhere. The merged PEM starts with the
//! header line [`DEFAULT_CERTIFICATE_HEADER`]; the caller stores it (mode 0600) in the
//! data directory and loads it with [`crate::certificate::ServedCertificate::from_pem`].

use crate::error::{EdgeError, Result};
use certfleet_pki::bundle::Bundle;
use certfleet_pki::issue::{issue_leaf, LeafRequest};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::Usage;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use zeroize::Zeroizing;

/// The header line above a generated default certificate.
pub const DEFAULT_CERTIFICATE_HEADER: &str = "# certfleet: installation default certificate";

/// Validity of a generated default certificate: ten years, so that a fallback nobody
/// looks at does not expire under a running installation. Regenerate it by deleting the
/// stored file.
pub const DEFAULT_CERTIFICATE_DAYS: u32 = 3650;

/// Generates a fresh default certificate and returns it as a merged PEM (header, key,
/// certificate).
pub fn generate_default_certificate() -> Result<Zeroizing<String>> {
    let request = LeafRequest {
        cn: "localhost".into(),
        dns_names: Vec::new(),
        ips: vec![
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(Ipv6Addr::LOCALHOST),
        ],
        usage: Usage::Server,
        days: DEFAULT_CERTIFICATE_DAYS,
        key: KeyAlgorithm::EcdsaP256,
    };
    let issued = issue_leaf(&request, None)?;
    let bundle = Bundle {
        key: Some(issued.key),
        leaf: Some(issued.cert),
        chain: Vec::new(),
        unrelated: Vec::new(),
    };
    let pem = bundle.to_merged_pem(None)?;
    if pem.is_empty() {
        return Err(EdgeError::Certificate(
            "generating the default certificate gave an empty bundle".into(),
        ));
    }
    let mut out = Zeroizing::new(String::with_capacity(pem.len() + 64));
    out.push_str(DEFAULT_CERTIFICATE_HEADER);
    out.push('\n');
    out.push_str(&pem);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certificate::ServedCertificate;

    #[test]
    fn each_call_makes_a_new_servable_key() {
        let first = generate_default_certificate().unwrap();
        let second = generate_default_certificate().unwrap();
        assert!(first.starts_with(DEFAULT_CERTIFICATE_HEADER));
        let a = ServedCertificate::from_pem(&first).unwrap();
        let b = ServedCertificate::from_pem(&second).unwrap();
        assert_ne!(a.summary().sha1_thumbprint, b.summary().sha1_thumbprint);
        assert!(a.covers("localhost"));
        assert!(a.summary().sans.contains(&"IP:127.0.0.1".to_owned()));
        assert!(!a.summary().auto_issued);
    }
}
