//! A cross-signed root rotation under the prober: in phase 2 every server certificate of
//! the internal CA, with the chain it is deployed with, is accepted by a peer that still
//! trusts only the old root (an appliance whose trust is uploaded by hand); phase 3 issues
//! again under the new root alone, and at the end nothing holds or chains to the old CA.
//! No handshake between the services fails throughout.

use super::ca_checks::{assert_leaves_from_current_ca, assert_nothing_from, current_ca};
use super::lab::Lab;
use super::reissue::assert_probes_most_connections;
use super::rotations::{assert_no_failed_handshake, between_steps, phase, run_to_the_end};
use crate::support::prober::{read_material, Site};
use certfleet_platform::spec::{serves, IssuerKind};
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::RootCertStore;
use std::sync::Arc;

/// Asserts that a client trusting `old_root` alone accepts every deployed server chain
/// of the internal CA's services, for each service's own name.
fn assert_old_root_accepts_every_server(site: &Site, old_root: &CertificateDer<'static>) {
    let mut roots = RootCertStore::empty();
    roots.add(old_root.clone()).unwrap();
    let verifier = WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
    )
    .build()
    .unwrap();
    let mut checked = 0;
    for service in &site.platform.services {
        if service.issuer != IssuerKind::Internal || !serves(service.usage) {
            continue;
        }
        let name = ServerName::try_from(service.cn.clone()).unwrap();
        for identity in read_material(site, service).unwrap().identities {
            verifier
                .verify_server_cert(
                    &identity.chain[0],
                    &identity.chain[1..],
                    &name,
                    &[],
                    UnixTime::now(),
                )
                .unwrap_or_else(|e| {
                    panic!(
                        "{}: a peer trusting only the old root refuses {}'s chain in phase reissue: {e}",
                        identity.file.display(),
                        service.name
                    )
                });
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no server certificate of the internal CA to check"
    );
}

#[test]
fn a_cross_signed_root_rotation_keeps_old_root_peers_until_retire_without_a_failed_handshake() {
    let example = "softphone-platform.toml";
    let lab = Lab::new(example);
    let site = lab.site();
    let old = current_ca(&site);
    let prober = lab.prober();
    assert_probes_most_connections(&lab, &prober);
    between_steps(&prober);

    prober.stage("rotate ca --cross-sign");
    lab.rotate(&["ca", "--cross-sign"]);
    assert!(
        site.ca_dir().join("next").join("cross.crt").is_file(),
        "rotate ca --cross-sign made no next/cross.crt"
    );
    between_steps(&prober);
    for expected in ["trust", "reissue"] {
        assert_eq!(phase(&lab).as_deref(), Some(expected));
        prober.stage(&format!("cross-signed rotation, phase {expected}"));
        lab.apply_ok(&format!("the apply in phase {expected}"));
        between_steps(&prober);
    }
    assert_old_root_accepts_every_server(&site, &old[0]);

    let phases = run_to_the_end(&lab, &prober, "the cross-signed rotation");
    assert_eq!(phases, ["retire"]);
    assert_nothing_from(&site, &old, "old root and issuing CA");
    assert_leaves_from_current_ca(&site);
    assert_no_failed_handshake(example, prober);
}
