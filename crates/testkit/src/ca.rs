//! Test certificate authorities: a root, optionally with an issuing intermediate, made by
//! certfleet's own CA code, that issue leaves.

use certfleet_pki::authority::{init_ca, Authority};
use certfleet_pki::issue::{issue_leaf, IssuedLeaf, LeafRequest};
use certfleet_pki::keys::KeyAlgorithm;
use rustls_pki_types::CertificateDer;

use crate::leaf::server_leaf;

/// Validity of a test CA unless a test asks for another.
const CA_DAYS: u32 = 365;

/// A test CA (ECDSA P-256) that issues leaves: from its root, or from its intermediate
/// when it has one.
#[derive(Debug)]
pub struct TestCa {
    root: CertificateDer<'static>,
    intermediate: Option<CertificateDer<'static>>,
    authority: Authority,
}

impl TestCa {
    /// A root CA named `cn`, valid a year, that issues leaves itself.
    pub fn root(cn: &str) -> Self {
        Self::root_valid_for(cn, CA_DAYS)
    }

    /// A root CA named `cn`, valid `days` days, that issues leaves itself.
    pub fn root_valid_for(cn: &str, days: u32) -> Self {
        let made = init_ca(cn, KeyAlgorithm::EcdsaP256, days, None).expect("test root CA");
        let authority =
            Authority::new(made.root_cert.clone(), made.root_key, Vec::new()).expect("root");
        TestCa {
            root: made.root_cert,
            intermediate: None,
            authority,
        }
    }

    /// A root named `root_cn` and an intermediate named `issuing_cn` under it, both valid
    /// a year; the intermediate issues the leaves.
    pub fn with_intermediate(root_cn: &str, issuing_cn: &str) -> Self {
        let made = init_ca(root_cn, KeyAlgorithm::EcdsaP256, CA_DAYS, Some(issuing_cn))
            .expect("test root and intermediate CA");
        let (intermediate, key) = made.intermediate.expect("an intermediate was asked for");
        let authority = Authority::new(intermediate.clone(), key, vec![made.root_cert.clone()])
            .expect("intermediate");
        TestCa {
            root: made.root_cert,
            intermediate: Some(intermediate),
            authority,
        }
    }

    /// The self-signed root certificate.
    pub fn root_cert(&self) -> &CertificateDer<'static> {
        &self.root
    }

    /// The intermediate certificate, when the CA has one.
    pub fn intermediate_cert(&self) -> Option<&CertificateDer<'static>> {
        self.intermediate.as_ref()
    }

    /// The authority that signs leaves (the intermediate when there is one).
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// A leaf for `request` signed by this CA, with its new key and its chain up to the
    /// root.
    pub fn issue(&self, request: &LeafRequest) -> IssuedLeaf {
        issue_leaf(request, Some(&self.authority)).expect("test leaf signed by the test CA")
    }
}

/// `(root, intermediate, leaf)` as DER for a server leaf whose CN is `cn`, valid `days`
/// days; the CAs, named after `cn`, are valid a year.
pub fn chain_der(cn: &str, days: u32) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let ca = TestCa::with_intermediate(&format!("{cn} Root"), &format!("{cn} Issuing"));
    let leaf = ca.issue(&LeafRequest {
        days,
        ..server_leaf(cn)
    });
    let intermediate = ca
        .intermediate_cert()
        .expect("made with an intermediate")
        .to_vec();
    (ca.root_cert().to_vec(), intermediate, leaf.cert.to_vec())
}
