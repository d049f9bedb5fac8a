//! What a bench needs to call a running `certfleet serve`'s admin API: the admin token
//! from its data directory, and a TLS client that accepts only the server's own admin
//! certificate (`DATA_DIR/default.pem`, pinned).

use certfleet_pki::tls_verifier::HandshakeOnlyVerifier;
use rustls::crypto::aws_lc_rs as provider;
use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::CertificateDer;
use std::fs;
use std::path::Path;
use std::sync::Arc;

/// The admin token and the pinned TLS client configuration of the server whose data
/// directory is `data_dir`. Panics when either file is missing: a bench has nothing to
/// measure without them.
pub fn pinned_admin(data_dir: &Path) -> (String, Arc<ClientConfig>) {
    let token = fs::read_to_string(data_dir.join("admin.token")).unwrap();
    let pinned = CertificateDer::pem_file_iter(data_dir.join("default.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let provider = Arc::new(provider::default_provider());
    let verifier = HandshakeOnlyVerifier::pinned(
        pinned,
        "not the admin certificate in DATA_DIR/default.pem",
        Arc::clone(&provider),
    );
    let tls = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    (token.trim().to_owned(), Arc::new(tls))
}
