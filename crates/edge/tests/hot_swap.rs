//! Snapshot swaps during continuous handshakes: none fails, none sees a certificate that
//! was never current, and each change is served by the next handshake.

// Test helpers outside #[test] functions unwrap too: a failure is the test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certfleet_edge::certificate::ServedCertificate;
use certfleet_edge::hub::CertificateHub;
use certfleet_edge::resolver::CertdirState;
use certfleet_edge::tls::{server_config, TlsOptions};
use certfleet_edge::tree::DomainTree;
use certfleet_testkit::bundle_pem;
use common::{client, handshake, served};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

fn tree_with(pem: &str) -> DomainTree {
    let mut tree = DomainTree::new();
    tree.add("live.test", None).unwrap();
    tree.add("sub.live.test", None).unwrap();
    tree.set_certificate("live.test", pem, false).unwrap();
    tree
}

#[test]
fn a_hundred_swaps_during_continuous_handshakes_fail_none() {
    let pems = [
        bundle_pem(&["live.test", "*.live.test"]),
        bundle_pem(&["live.test", "*.live.test"]),
    ];
    let trees = [tree_with(&pems[0]), tree_with(&pems[1])];
    let domain_thumbs: Vec<String> = pems
        .iter()
        .map(|p| {
            ServedCertificate::from_pem(p)
                .unwrap()
                .summary()
                .sha1_thumbprint
                .clone()
        })
        .collect();
    let certdirs: Vec<Arc<ServedCertificate>> = (0..2)
        .map(|_| Arc::new(served(&["ws.internal.test"])))
        .collect();
    let certdir_thumbs: Vec<String> = certdirs
        .iter()
        .map(|c| c.summary().sha1_thumbprint.clone())
        .collect();

    let hub = Arc::new(CertificateHub::new(served(&["localhost"])));
    hub.set_tree(&trees[0]).unwrap();
    hub.set_certdir("ws", Some(CertdirState::Loaded(Arc::clone(&certdirs[0]))));
    let options = TlsOptions {
        session_resumption: false,
        ..TlsOptions::default()
    };
    let server = Arc::new(server_config(&options, hub.cert_resolver("ws")).unwrap());

    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let workers: Vec<_> = (0..3)
        .map(|worker| {
            let (server, stop, done) = (Arc::clone(&server), Arc::clone(&stop), Arc::clone(&done));
            let (domain_thumbs, certdir_thumbs) = (domain_thumbs.clone(), certdir_thumbs.clone());
            std::thread::spawn(move || {
                let client = client(None);
                let mut failures = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    for sni in [Some("live.test"), Some("sub.live.test"), None] {
                        let allowed = if sni.is_some() {
                            &domain_thumbs
                        } else {
                            &certdir_thumbs
                        };
                        match handshake(&server, &client, sni) {
                            Ok(thumb) if allowed.contains(&thumb) => {}
                            Ok(thumb) => {
                                failures.push(format!("worker {worker}: {sni:?} got {thumb}"))
                            }
                            Err(e) => failures.push(format!("worker {worker}: {sni:?}: {e}")),
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
                failures
            })
        })
        .collect();

    let main_client = client(None);
    for swap in 0..100 {
        let next = (swap + 1) % 2;
        hub.set_tree(&trees[next]).unwrap();
        hub.set_certdir(
            "ws",
            Some(CertdirState::Loaded(Arc::clone(&certdirs[next]))),
        );
        // The very next handshake sees the change.
        assert_eq!(
            handshake(&server, &main_client, Some("sub.live.test")).unwrap(),
            domain_thumbs[next]
        );
        assert_eq!(
            handshake(&server, &main_client, None).unwrap(),
            certdir_thumbs[next]
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    stop.store(true, Ordering::Relaxed);
    let failures: Vec<String> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    let handshakes = done.load(Ordering::Relaxed);
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        failures.first()
    );
    assert!(
        handshakes >= 100,
        "only {handshakes} handshakes ran during the swaps"
    );
    println!("{handshakes} handshakes during 100 swaps, 0 failures");
}
