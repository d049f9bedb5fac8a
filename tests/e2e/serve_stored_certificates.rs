//! `certfleet serve` started on a data directory that already holds many domains, each
//! with its own certificate (records written through the library, as `domain set-cert`
//! stores them): the server reads each stored private key when a handshake first needs
//! it, and still every name presents its own leaf from the first handshakes on, with
//! handshakes for the same names racing each other; a domain whose stored key belongs to
//! no certificate of its bundle is refused and reported (`domain show`, the log) while
//! the others are served; and a certificate replaced before any handshake read its key
//! is served as the new one.

use crate::support::run::TempDir;
use crate::support::serve::ServeConfig;
use crate::support::tls_client::HandshakeClient;
use certfleet_edge::repository::DomainRepository;
use certfleet_edge::tree::records::DomainRecord;
use certfleet_pki::authority::{init_ca, Authority};
use certfleet_pki::certs::to_pem;
use certfleet_pki::issue::{issue_leaf, IssuedLeaf, LeafRequest};
use certfleet_pki::keys::KeyAlgorithm;
use certfleet_pki::profile::Usage;
use certfleet_secrets::{ensure_private_dir, MasterKey};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Domains with a certificate of their own, besides the special ones below.
const DOMAINS: usize = 240;
const MASTER: &str = "stored.test";
/// Its stored bundle pairs its certificate with another certificate's key.
const BROKEN: &str = "broken.stored.test";
/// Replaced through the admin API before any handshake.
const REPLACED: &str = "replaced.stored.test";

fn name(i: usize) -> String {
    format!("d{i:04}.{MASTER}")
}

struct Fleet {
    authority: Authority,
    intermediate_pem: String,
}

impl Fleet {
    fn new(dir: &Path) -> Fleet {
        let made = init_ca(
            "stored certificates root",
            KeyAlgorithm::EcdsaP256,
            30,
            Some("stored certificates issuing"),
        )
        .unwrap();
        let (intermediate, key) = made.intermediate.unwrap();
        std::fs::write(
            dir.join("root.pem"),
            to_pem(std::slice::from_ref(&made.root_cert)),
        )
        .unwrap();
        Fleet {
            intermediate_pem: to_pem(std::slice::from_ref(&intermediate)),
            authority: Authority::new(intermediate, key, vec![made.root_cert]).unwrap(),
        }
    }

    fn leaf(&self, name: &str) -> IssuedLeaf {
        let request = LeafRequest {
            cn: name.to_owned(),
            dns_names: Vec::new(),
            ips: Vec::new(),
            usage: Usage::Server,
            days: 30,
            key: KeyAlgorithm::EcdsaP256,
        };
        issue_leaf(&request, Some(&self.authority)).unwrap()
    }

    /// The merged bundle of `leaf` with `key`'s private key: leaf, intermediate, key.
    fn bundle(&self, leaf: &IssuedLeaf, key: &IssuedLeaf) -> String {
        format!(
            "{}{}{}",
            to_pem(std::slice::from_ref(&leaf.cert)),
            self.intermediate_pem,
            key.key.to_pem().as_str()
        )
    }
}

fn sha256(der: &[u8]) -> String {
    ::aws_lc_rs::digest::digest(&::aws_lc_rs::digest::SHA256, der)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// Writes the domain records (sealed with the data directory's master key) before the
/// server starts.
fn seed(data_dir: &Path, bundles: &[(String, String)]) {
    ensure_private_dir(data_dir).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = certfleet_store::embedded::EmbeddedStore::open(data_dir.join("store.redb"))
            .await
            .unwrap();
        let key = Arc::new(MasterKey::load_or_create(data_dir).unwrap());
        let repository = DomainRepository::new(Arc::new(store), key);
        let master = DomainRecord {
            name: MASTER.to_owned(),
            ..DomainRecord::default()
        };
        repository
            .save(&master, "test", "domain.add")
            .await
            .unwrap();
        for (name, pem) in bundles {
            let record = DomainRecord {
                name: name.clone(),
                parent: Some(MASTER.to_owned()),
                certificate_pem: Some(pem.clone()),
                ..DomainRecord::default()
            };
            repository
                .save(&record, "test", "domain.set-cert")
                .await
                .unwrap();
        }
    });
}

#[test]
fn every_stored_certificate_is_served_for_its_own_name_from_the_first_handshakes() {
    let dir = TempDir::new();
    let fleet = Fleet::new(dir.path());
    let mut expected: HashMap<String, String> = HashMap::new();
    let mut bundles = Vec::new();
    for i in 1..=DOMAINS {
        let leaf = fleet.leaf(&name(i));
        expected.insert(name(i), sha256(&leaf.cert));
        bundles.push((name(i), fleet.bundle(&leaf, &leaf)));
    }
    let (broken, stranger) = (fleet.leaf(BROKEN), fleet.leaf("stranger.stored.test"));
    bundles.push((BROKEN.to_owned(), fleet.bundle(&broken, &stranger)));
    let (first, second) = (fleet.leaf(REPLACED), fleet.leaf(REPLACED));
    bundles.push((REPLACED.to_owned(), fleet.bundle(&first, &first)));
    let replacement = dir.join("replacement.pem");
    std::fs::write(&replacement, fleet.bundle(&second, &second)).unwrap();

    let mut config = ServeConfig::new(dir.path());
    seed(&config.data_dir, &bundles);
    let edge = config.listener("edge", None, None);
    let server = config.start();

    // Replaced before any handshake needed the first certificate's key.
    server.domain_ok(&[
        "set-cert",
        REPLACED,
        replacement.to_str().unwrap(),
        "--json",
    ]);

    // Every name from four clients at once, each going through the names in another
    // order, so that first handshakes for the same name race.
    let client = HandshakeClient::new(&dir.join("root.pem"));
    let mut names: Vec<String> = expected.keys().cloned().collect();
    names.sort();
    let names = Arc::new(names);
    let workers: Vec<_> = (0..4)
        .map(|worker| {
            let (client, names) = (client.clone(), Arc::clone(&names));
            std::thread::spawn(move || {
                let count = names.len();
                (0..count)
                    .map(|k| {
                        let name = &names[(k * (2 * worker + 1) + worker * 61) % count];
                        (name.clone(), client.handshake(edge, name))
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for worker in workers {
        for (name, served) in worker.join().unwrap() {
            assert_eq!(
                served.as_ref(),
                Ok(&expected[&name]),
                "{name} did not present its own leaf\n{}",
                server.logs()
            );
        }
    }

    assert_eq!(
        client.handshake(edge, REPLACED),
        Ok(sha256(&second.cert)),
        "the replaced domain must present the new certificate"
    );

    let refused = client.handshake(edge, BROKEN);
    assert!(
        refused.is_err(),
        "a stored bundle whose key is not its leaf's must never be served: {refused:?}"
    );
    let shown = server.domain_ok(&["show", BROKEN, "--json"]);
    let reason = shown["certificate"]["load_error"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("private key"), "{shown}");
    let logs = server.logs();
    assert!(logs.contains("cannot be served"), "{logs}");
    assert!(!logs.contains("-----BEGIN"), "no PEM in the log: {logs}");
    let healthy = server.domain_ok(&["show", &name(1), "--json"]);
    assert!(
        healthy["certificate"].get("load_error").is_none(),
        "{healthy}"
    );
}
