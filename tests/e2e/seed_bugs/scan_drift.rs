//! Seed 004, "Uploading a ready certificate to the domain": after a merged PEM is
//! pasted into a domain, `certfleet scan` compares what real endpoints
//! (`openssl s_server`) deploy with the managed certificate. The text table's DRIFT
//! column must say the same as the JSON's `drift`: "no" where the endpoint serves
//! the managed certificate, "YES" where it serves another one.

use crate::support::openssl::SServer;
use crate::support::pki::{Ca, Leaf};
use crate::support::run::{arg, certfleet, describe, stdout, stdout_json, TempDir};
use crate::support::serve::ServeConfig;

/// An `openssl s_server` presenting `leaf`.
fn endpoint(leaf: &Leaf) -> SServer {
    SServer::start(&leaf.crt(), &leaf.key(), None, &[])
}

/// The DRIFT column of the table row for `target`.
fn table_drift(table: &str, target: &str) -> String {
    let header = table.lines().next().unwrap_or_default();
    let column = header
        .find("DRIFT")
        .unwrap_or_else(|| panic!("no DRIFT column:\n{table}"));
    let row = table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(target))
        .unwrap_or_else(|| panic!("no row for {target}:\n{table}"));
    row[column..]
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn uploading_a_ready_certificate_to_the_domain_scan_table_drift_agrees_with_json() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "SeedDrift");
    let mut config = ServeConfig::new(dir.path());
    config.listener("web", None, None);
    let server = config.start();
    server.domain_ok(&["add", "drift.test", "--json"]);
    let managed = ca.leaf(dir.path(), "app.drift.test", &[], 90, "");
    server.domain_ok(&["add", "app.drift.test", "--parent", "drift.test", "--json"]);
    server.domain_ok(&[
        "set-cert",
        "app.drift.test",
        arg(&managed.merged()),
        "--json",
    ]);

    let rogue = ca.leaf(dir.path(), "app.drift.test", &[], 90, "-other");
    let same = endpoint(&managed);
    let other = endpoint(&rogue);
    let t_same = format!("{}/app.drift.test", same.addr);
    let t_other = format!("{}/app.drift.test", other.addr);
    let admin = format!("https://{}", server.admin);
    let root = ca.root();
    let args = [
        "scan",
        t_same.as_str(),
        t_other.as_str(),
        "--trust",
        arg(&root),
        "--server",
        admin.as_str(),
        "--data-dir",
        arg(&server.data_dir),
    ];

    let mut json_args = args.to_vec();
    json_args.push("--json");
    let json_out = certfleet(&json_args);
    let json = stdout_json(&json_out);
    let results = json["results"].as_array().expect("results array");
    let drift_of = |target: &str| {
        results
            .iter()
            .find(|r| r["target"] == target)
            .unwrap_or_else(|| panic!("no result for {target}: {json}"))["drift"]
            .as_bool()
    };
    assert_eq!(drift_of(&t_same), Some(false), "{json}");
    assert_eq!(drift_of(&t_other), Some(true), "{json}");

    let table_out = certfleet(&args);
    assert_eq!(table_out.status.code(), Some(1), "{}", describe(&table_out));
    let table = stdout(&table_out);
    assert_eq!(table_drift(&table, &t_same), "no", "{table}");
    assert_eq!(table_drift(&table, &t_other), "YES", "{table}");
}
