//! What `certfleet lint` judges a file with: its certificates, its private key when the
//! file holds one (a merged bundle), and the key rule of the peer kind `--peer` names.

use crate::files::read_input;
use crate::spec::{constrained_kinds, peer_keys};
use anyhow::{bail, Context, Result};
use certfleet_formats::pem;
use certfleet_pki::certs::parse_certificates;
use certfleet_pki::keys::PrivateKey;
use certfleet_pki::lint::PeerKeyRule;
use rustls_pki_types::CertificateDer;
use std::path::Path;

/// The certificates of the file at `path` and, when it holds a private-key block, its
/// key. Errors name the file.
pub fn read_lint_file(path: &Path) -> Result<(Vec<CertificateDer<'static>>, Option<PrivateKey>)> {
    let name = path.display().to_string();
    let bytes = read_input(path)?;
    let certificates = parse_certificates(&bytes).with_context(|| name.clone())?;
    let key = if pem::has_private_key_block(&bytes).with_context(|| name.clone())? {
        Some(PrivateKey::from_bytes(&bytes).with_context(|| name.clone())?)
    } else {
        None
    };
    Ok((certificates, key))
}

/// The keys a peer of `kind` takes, refused naming the known kinds when it has no rule.
pub fn peer_key_rule(kind: &str) -> Result<PeerKeyRule> {
    let Some(entry) = peer_keys(kind) else {
        bail!(
            "--peer {kind}: not a kind that takes only some keys; known kinds: {}",
            constrained_kinds().join(", ")
        );
    };
    Ok(PeerKeyRule {
        peer: kind.trim().to_owned(),
        accepted: entry.accepted.to_vec(),
        reason: entry.reason.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_kind_gives_its_rule_and_an_unknown_one_lists_the_known() {
        let rule = peer_key_rule(" UCCX ").unwrap();
        assert_eq!(rule.peer, "UCCX");
        assert!(!rule.accepted.is_empty());
        let err = peer_key_rule("toaster").unwrap_err().to_string();
        assert!(err.starts_with("--peer toaster: not a kind"), "{err}");
        assert!(err.contains("uccx"), "{err}");
    }

    #[test]
    fn a_bundle_gives_its_certificates_and_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("web.pem");
        let leaf = certfleet_testkit::self_signed(&certfleet_testkit::server_leaf("web.test"));
        std::fs::write(&path, certfleet_testkit::merged_pem(leaf)).unwrap();
        let (certs, key) = read_lint_file(&path).unwrap();
        assert_eq!(certs.len(), 1);
        assert!(key.is_some());
    }
}
