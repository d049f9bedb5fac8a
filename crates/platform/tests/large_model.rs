//! A large model (20,000 services on 2,000 nodes, each a client of a shared hub with
//! mutual TLS and of its neighbour) is planned completely: every service is to be issued
//! and the hub trusts every client's issuer. Look-ups by name, trust entries and reasons
//! are indexed, so this runs in O(n log n); before they were, 200,000 services took
//! about a minute.

use certfleet_platform::engine::{evaluate, Mode, Options};
use std::fmt::Write;
use std::path::Path;

const SERVICES: usize = 20_000;
const NODES: usize = 2_000;

fn model() -> String {
    let mut text = String::from("[platform]\nname = \"big\"\nca = \"self-signed\"\n\n");
    for n in 0..NODES {
        let _ = write!(
            text,
            "[[node]]\nname = \"n{n}\"\nfqdn = \"n{n}.example.test\"\n\n"
        );
    }
    let _ = write!(
        text,
        "[[service]]\nname = \"hub\"\nnode = \"n0\"\nusage = \"both\"\n\n[[service.output]]\nformat = \"pem-trust\"\npath = \"hub/trust.pem\"\n\n"
    );
    for s in 0..SERVICES {
        let _ = write!(
            text,
            "[[service]]\nname = \"s{s}\"\nnode = \"n{}\"\nusage = \"both\"\ncn = \"s{s}.example.test\"\nreload = \"true\"\n\n[[service.output]]\nformat = \"pem-pair\"\npath = \"out/s{s}\"\n\n",
            s % NODES
        );
    }
    for s in 0..SERVICES {
        let _ = write!(
            text,
            "[[connection]]\nfrom = \"s{s}\"\nto = \"hub\"\nmtls = true\n\n[[connection]]\nfrom = \"s{s}\"\nto = \"s{}\"\n\n",
            (s + 1) % SERVICES
        );
    }
    text
}

#[test]
fn twenty_thousand_services_are_planned_completely() {
    let dir = tempfile::tempdir().unwrap();
    let model_path = dir.path().join("big.toml");
    std::fs::write(&model_path, model()).unwrap();
    let root = dir.path().join("root");
    let load_ca = |_: &Path| Err("no internal CA in this model".to_string());
    let opts = Options {
        model_path: &model_path,
        root: Some(&root),
        cwd: dir.path(),
        master_key: None,
        now: time::OffsetDateTime::now_utc(),
        load_ca: &load_ca,
        progress: None,
        adopt: false,
    };
    let plan = evaluate(&opts, Mode::Plan).unwrap();
    assert_eq!(plan.services.len(), SERVICES + 1);
    let issues = plan.changes.iter().filter(|c| c.action == "issue").count();
    assert_eq!(issues, SERVICES + 1);
    let writes = plan.changes.iter().filter(|c| c.action == "write").count();
    assert_eq!(writes, SERVICES + 1);
    assert!(plan.files.is_empty(), "plan renders nothing");
    assert!(!root.exists(), "plan wrote under the root");
    // The hub's trust store waits on every client's certificate, each named once.
    let hub = plan
        .changes
        .iter()
        .find(|c| c.service == "hub" && c.action == "write")
        .unwrap();
    assert_eq!(
        hub.reason.matches("its self-signed certificate").count(),
        SERVICES
    );
}
