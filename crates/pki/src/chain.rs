//! Putting certificates in chain order by following issuer links.

use rustls_pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;

/// The chain above `leaf` built from `pool` by following issuer links (issuer name equal
/// to subject name, and when both are present, authority key id equal to subject key id),
/// leaf excluded, ending at a self-signed root or where the pool runs out. Certificates
/// of the pool that are not on the path are returned second.
pub fn order_chain(
    leaf: &CertificateDer<'static>,
    pool: &[CertificateDer<'static>],
) -> (Vec<CertificateDer<'static>>, Vec<CertificateDer<'static>>) {
    let mut remaining: Vec<CertificateDer<'static>> =
        pool.iter().filter(|c| *c != leaf).cloned().collect();
    let mut ordered = Vec::new();
    let mut current = leaf.clone();
    while let Ok((_, child)) = x509_parser::parse_x509_certificate(&current) {
        if is_self_issued(&child) {
            break;
        }
        let next = remaining.iter().position(|candidate| {
            x509_parser::parse_x509_certificate(candidate)
                .map(|(_, parent)| issued_by(&child, &parent))
                .unwrap_or(false)
        });
        match next {
            Some(index) => {
                let parent = remaining.remove(index);
                ordered.push(parent.clone());
                current = parent;
            }
            None => break,
        }
    }
    (ordered, remaining)
}

/// True when `child` names `parent` as its issuer (name, and key identifiers when both
/// certificates carry them).
pub fn issued_by(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> bool {
    if child.issuer().as_raw() != parent.subject().as_raw() && child.issuer() != parent.subject() {
        return false;
    }
    match (authority_key_id(child), subject_key_id(parent)) {
        (Some(aki), Some(ski)) => aki == ski,
        _ => true,
    }
}

/// True when the certificate's issuer and subject names are equal.
pub fn is_self_issued(cert: &X509Certificate<'_>) -> bool {
    cert.issuer().as_raw() == cert.subject().as_raw()
}

fn authority_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            x509_parser::extensions::ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|id| id.0)
            }
            _ => None,
        })
}

fn subject_key_id<'a>(cert: &'a X509Certificate<'_>) -> Option<&'a [u8]> {
    cert.extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(ski) => Some(ski.0),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authority::{init_ca, Authority};
    use crate::issue::{issue_leaf, LeafRequest};
    use crate::keys::KeyAlgorithm;
    use crate::profile::Usage;

    #[test]
    fn orders_a_shuffled_pool() {
        let ca = init_ca("Root", KeyAlgorithm::EcdsaP256, 30, Some("Issuing")).unwrap();
        let (icert, ikey) = ca.intermediate.unwrap();
        let authority = Authority::new(icert.clone(), ikey, vec![ca.root_cert.clone()]).unwrap();
        let request = LeafRequest {
            cn: "a.example.test".into(),
            dns_names: vec![],
            ips: vec![],
            usage: Usage::Server,
            days: 10,
            key: KeyAlgorithm::EcdsaP256,
        };
        let leaf = issue_leaf(&request, Some(&authority)).unwrap();
        let stranger = init_ca("Other", KeyAlgorithm::EcdsaP256, 30, None)
            .unwrap()
            .root_cert;
        let pool = vec![ca.root_cert.clone(), stranger.clone(), icert.clone()];
        let (ordered, rest) = order_chain(&leaf.cert, &pool);
        assert_eq!(ordered, vec![icert, ca.root_cert]);
        assert_eq!(rest, vec![stranger]);
    }
}
