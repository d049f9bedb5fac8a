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

/// What [`crate::inspect::leaf_first`] and [`order_chain`] make of certificates without
/// a key, with each certificate parsed once: the position of the leaf (the first
/// certificate that issued none of the others; the first one when every one issued
/// another), the positions of its chain in issuer order, and those of the certificates
/// left over (copies of the leaf excluded, as `order_chain` excludes them).
pub fn sort_without_key(certs: &[CertificateDer<'_>]) -> (usize, Vec<usize>, Vec<usize>) {
    let parsed: Vec<Option<X509Certificate<'_>>> = certs
        .iter()
        .map(|der| {
            x509_parser::parse_x509_certificate(der)
                .ok()
                .map(|(_, c)| c)
        })
        .collect();
    sort_parsed(certs, &parsed)
}

/// [`sort_without_key`] for certificates the caller already parsed: `parsed[i]` is
/// `certs[i]` parsed, `None` where it does not parse.
pub fn sort_parsed(
    certs: &[CertificateDer<'_>],
    parsed: &[Option<X509Certificate<'_>>],
) -> (usize, Vec<usize>, Vec<usize>) {
    let issued = |child: usize, parent: usize| match (&parsed[child], &parsed[parent]) {
        (Some(child), Some(parent)) => issued_by(child, parent),
        _ => false,
    };
    let leaf = (0..certs.len())
        .find(|&candidate| {
            parsed[candidate].is_some()
                && !(0..certs.len())
                    .any(|other| certs[other] != certs[candidate] && issued(other, candidate))
        })
        .unwrap_or(0);
    let mut remaining: Vec<usize> = (0..certs.len())
        .filter(|&i| certs.get(leaf).is_some_and(|l| certs[i] != *l))
        .collect();
    let mut ordered = Vec::new();
    let mut current = leaf;
    while let Some(Some(child)) = parsed.get(current) {
        if is_self_issued(child) {
            break;
        }
        match remaining
            .iter()
            .position(|&candidate| issued(current, candidate))
        {
            Some(index) => {
                current = remaining.remove(index);
                ordered.push(current);
            }
            None => break,
        }
    }
    (leaf, ordered, remaining)
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
        assert_eq!(ordered, vec![icert.clone(), ca.root_cert.clone()]);
        assert_eq!(rest, vec![stranger.clone()]);

        // Without a key, sorting in one pass agrees with leaf_first for every order of
        // the set, a copy of the leaf and a stranger included.
        let all = [
            leaf.cert.clone(),
            icert,
            ca.root_cert,
            stranger,
            leaf.cert.clone(),
        ];
        for rotation in 0..all.len() {
            for reversed in [false, true] {
                let mut set = all.to_vec();
                set.rotate_left(rotation);
                if reversed {
                    set.reverse();
                }
                let (at, chain, rest) = sort_without_key(&set);
                let pick = |positions: &[usize]| -> Vec<_> {
                    positions.iter().map(|&i| set[i].clone()).collect()
                };
                let sorted: Vec<_> = std::iter::once(set[at].clone())
                    .chain(pick(&chain))
                    .chain(pick(&rest))
                    .collect();
                assert_eq!(sorted, crate::inspect::leaf_first(set.clone(), None));
            }
        }
    }
}
