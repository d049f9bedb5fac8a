//! ACME renewal information (ARI, RFC 9773): the window in which the CA suggests
//! renewing a certificate, when the directory offers it.

use instant_acme::{Account, CertificateIdentifier};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// The suggested renewal window (Unix seconds) for the leaf of `chain_pem`; `None` when
/// the CA has no ARI or the request fails (the two-thirds rule then applies).
pub async fn renewal_window(account: &Account, chain_pem: &str) -> Option<(i64, i64)> {
    let leaf = CertificateDer::pem_slice_iter(chain_pem.as_bytes())
        .next()?
        .ok()?;
    let id = CertificateIdentifier::try_from(&leaf).ok()?;
    let (info, _) = account.renewal_info(&id).await.ok()?;
    let window = info.suggested_window;
    Some((window.start.unix_timestamp(), window.end.unix_timestamp()))
}
