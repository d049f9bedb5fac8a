//! Issuer certificates kept once for every domain that sends them.
//!
//! Domains signed by the same CA send the same intermediate after their leaf; with many
//! domains, a copy each is a good part of their memory (about 0.5 KiB a domain for a
//! P-256 intermediate). rustls keeps a chain as owned or `'static` DER, so a shared issuer
//! is one `'static` copy for the life of the process. That is bounded: at most
//! [`MAX_SHARED`] distinct issuers are shared (CAs and their rotations, a handful in
//! practice); beyond that, each domain keeps its own copy again.

use rustls_pki_types::CertificateDer;
use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

/// How many distinct issuer certificates are kept for sharing, at most.
const MAX_SHARED: usize = 1024;

/// The issuer certificates kept so far.
fn kept() -> &'static Mutex<HashSet<&'static [u8]>> {
    static KEPT: OnceLock<Mutex<HashSet<&'static [u8]>>> = OnceLock::new();
    KEPT.get_or_init(Mutex::default)
}

/// `issuer` as the one shared copy of its DER (made now if it is the first), or as it is
/// once [`MAX_SHARED`] issuers are kept.
pub(super) fn shared(issuer: CertificateDer<'static>) -> CertificateDer<'static> {
    // A panic while the set was held cannot leave it half-changed (an insert either
    // happened or not), so a poisoned lock is still good to use.
    let mut kept = kept().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(&copy) = kept.get(issuer.as_ref()) {
        return CertificateDer::from(copy);
    }
    if kept.len() >= MAX_SHARED {
        return issuer;
    }
    let copy: &'static [u8] = Box::leak(issuer.as_ref().to_vec().into_boxed_slice());
    kept.insert(copy);
    CertificateDer::from(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_issuers_share_one_copy_and_different_ones_do_not() {
        let first = shared(CertificateDer::from(
            b"issuer one of the shared test".to_vec(),
        ));
        let again = shared(CertificateDer::from(
            b"issuer one of the shared test".to_vec(),
        ));
        let other = shared(CertificateDer::from(
            b"issuer two of the shared test".to_vec(),
        ));
        assert_eq!(first.as_ref(), b"issuer one of the shared test");
        assert!(std::ptr::eq(first.as_ref(), again.as_ref()), "one copy");
        assert_eq!(other.as_ref(), b"issuer two of the shared test");
        assert!(!std::ptr::eq(first.as_ref(), other.as_ref()));
    }
}
