//! `certfleet scan` against real TLS endpoints on 127.0.0.1: `openssl s_server`s
//! presenting a valid chain (TLS 1.3, and TLS 1.2 only), an expired leaf, a leaf for
//! another name, and a chain from a foreign CA; a closed port; and a running
//! `certfleet serve` whose domain certificate is compared with what endpoints deploy
//! (drift), with the results recorded in the server (`GET /api/scans`). Every JSON
//! field docs/CLI.md promises is checked, and the exit status: 0 all fine, 1 any problem,
//! 2 bad usage. Endpoints judged by the system roots (`SSL_CERT_FILE` here) are held to
//! the webpki profile, those judged by a trust file to rfc5280, unless `--profile` says.

use crate::support::openssl::{sha1_fingerprint, SServer};
use crate::support::pki::{Ca, Leaf};
use crate::support::run::{arg, assert_exit, certfleet, describe, stdout, stdout_json, TempDir};
use crate::support::serve::{free_addr, ServeConfig, Server};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// An `openssl s_server` presenting `leaf` and its chain; `extra` adds options such as
/// `-no_tls1_3`.
fn s_server(leaf: &Leaf, extra: &[&str]) -> SServer {
    SServer::start(&leaf.crt(), &leaf.key(), Some(&leaf.chain()), extra)
}

/// `certfleet scan ARGS... --json`; the output and the parsed `results`.
fn scan_json(args: &[&str]) -> (Output, Vec<Value>) {
    let mut all = vec!["scan", "--json"];
    all.extend_from_slice(args);
    let out = certfleet(&all);
    let json = stdout_json(&out);
    let results = json["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results array: {json}"))
        .clone();
    (out, results)
}

fn result_for<'a>(results: &'a [Value], target: &str) -> &'a Value {
    results
        .iter()
        .find(|r| r["target"] == target)
        .unwrap_or_else(|| panic!("no result for {target}: {results:#?}"))
}

fn codes(result: &Value) -> Vec<(String, String)> {
    result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            assert!(f["message"].as_str().is_some_and(|m| !m.is_empty()), "{f}");
            (
                f["code"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn warnings(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn scan_judges_real_endpoints_and_exits_1_on_any_problem() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Scan");
    let foreign = Ca::new(dir.path(), "Foreign");
    let root = ca.root();
    let no_server = dir.join("no-server");
    let offline = ["--trust", arg(&root), "--data-dir", arg(&no_server)];

    let valid = ca.leaf(dir.path(), "valid.scan.test", &[], 90, "");
    let expired = ca.expired_leaf(dir.path(), "old.scan.test");
    let other = ca.leaf(dir.path(), "other.scan.test", &[], 90, "");
    let stranger = foreign.leaf(dir.path(), "foreign.scan.test", &[], 90, "");
    let s_valid = s_server(&valid, &[]);
    let s_tls12 = s_server(&valid, &["-no_tls1_3"]);
    let s_expired = s_server(&expired, &[]);
    let s_other = s_server(&other, &[]);
    let s_foreign = s_server(&stranger, &[]);
    // Only a CBC suite, which rustls does not offer: the server answers with an alert.
    let s_alert = s_server(&valid, &["-no_tls1_3", "-cipher", "ECDHE-ECDSA-AES128-SHA"]);
    let closed = free_addr();

    // One good endpoint: exit 0, every field, one warning for the missing server.
    let t_valid = format!("{}/valid.scan.test", s_valid.addr);
    let mut args = vec![t_valid.as_str()];
    args.extend_from_slice(&offline);
    let (out, results) = scan_json(&args);
    assert_exit(&out, 0);
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r["target"], t_valid.as_str());
    assert_eq!(r["sni"], "valid.scan.test");
    assert_eq!(r["reachable"], true);
    assert_eq!(
        r["sha1_thumbprint"],
        sha1_fingerprint(&valid.crt()).as_str()
    );
    assert!(r["not_after"].as_str().unwrap().ends_with('Z'), "{r}");
    assert!(
        (89..=90).contains(&r["days_remaining"].as_i64().unwrap()),
        "{r}"
    );
    assert_eq!(r["state"], "ok");
    assert_eq!(r["chain_valid"], true, "{r}");
    assert_eq!(r["hostname_match"], true, "{r}");
    assert_eq!(r["protocol"], "TLSv1.3");
    assert!(
        codes(r).iter().all(|(_, severity)| severity == "notice"),
        "{r}"
    );
    assert!(r["drift"].is_null(), "{r}");
    assert!(r["error"].is_null(), "{r}");
    // The whole presented chain: leaf, intermediate, root, as s_server sends them.
    let chain: Vec<&str> = r["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha1_thumbprint"].as_str().unwrap())
        .collect();
    assert_eq!(chain.len(), 3, "{r}");
    assert_eq!(chain[2], sha1_fingerprint(&root));
    assert_eq!(warnings(&out).len(), 1, "{}", describe(&out));

    // The same endpoint trusted through a JKS truststore, and in text form.
    let jks = dir.join("trust.jks");
    let converted = certfleet(&[
        "convert",
        arg(&root),
        "--to",
        "jks-trust",
        "--out",
        arg(&jks),
        "--password",
        "changeit",
    ]);
    assert_exit(&converted, 0);
    let jks_args = [
        t_valid.as_str(),
        "--trust",
        arg(&jks),
        "--password",
        "changeit",
        "--data-dir",
        arg(&no_server),
    ];
    let (out, results) = scan_json(&jks_args);
    assert_exit(&out, 0);
    assert_eq!(results[0]["chain_valid"], true);
    let text = certfleet(&[
        "scan",
        t_valid.as_str(),
        "--trust",
        arg(&root),
        "--data-dir",
        arg(&no_server),
    ]);
    assert_exit(&text, 0);
    let shown = stdout(&text);
    assert!(
        shown.contains(&t_valid) && shown.contains("valid    match"),
        "{shown}"
    );
    assert!(
        shown.contains("1 target(s): 1 fine, 0 with problems"),
        "{shown}"
    );

    // Every kind of problem at once: exit 1, each judged on its own.
    let t_tls12 = format!("{}/valid.scan.test", s_tls12.addr);
    let t_expired = format!("{}/old.scan.test", s_expired.addr);
    let t_mismatch = format!("{}/mismatch.scan.test", s_other.addr);
    let t_foreign = format!("{}/foreign.scan.test", s_foreign.addr);
    let t_closed = closed.to_string();
    let t_alert = format!("{}/valid.scan.test", s_alert.addr);
    let mut args = vec![
        t_valid.as_str(),
        t_tls12.as_str(),
        t_expired.as_str(),
        t_mismatch.as_str(),
        t_foreign.as_str(),
        t_closed.as_str(),
        t_alert.as_str(),
    ];
    args.extend_from_slice(&offline);
    args.extend_from_slice(&["--concurrency", "2", "--timeout", "5"]);
    let (out, results) = scan_json(&args);
    assert_exit(&out, 1);
    let targets: Vec<&str> = results
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(
        targets,
        args[..7],
        "results come in the order of the targets"
    );

    let r = result_for(&results, &t_valid);
    assert_eq!(
        (r["state"].as_str(), r["chain_valid"].as_bool()),
        (Some("ok"), Some(true))
    );

    let r = result_for(&results, &t_tls12);
    assert_eq!(r["protocol"], "TLSv1.2", "{r}");
    assert_eq!(r["chain_valid"], true, "{r}");

    let r = result_for(&results, &t_expired);
    assert_eq!(r["state"], "expired", "{r}");
    assert_eq!(r["not_after"], "2020-02-01T00:00:00Z", "{r}");
    assert!(r["days_remaining"].as_i64().unwrap() < 0, "{r}");
    assert_eq!(r["chain_valid"], false, "{r}");
    assert_eq!(r["chain_error_code"], "expired", "{r}");
    assert!(
        r["chain_error"].as_str().unwrap().contains("expired"),
        "{r}"
    );
    assert_eq!(r["hostname_match"], true, "{r}");
    assert!(
        codes(r).contains(&("expired".into(), "error".into())),
        "{r}"
    );
    assert_eq!(
        r["sha1_thumbprint"],
        sha1_fingerprint(&expired.crt()).as_str()
    );

    let r = result_for(&results, &t_mismatch);
    assert_eq!(r["hostname_match"], false, "{r}");
    assert!(
        r["hostname_error"]
            .as_str()
            .unwrap()
            .contains("mismatch.scan.test"),
        "{r}"
    );
    assert_eq!(r["chain_valid"], true, "{r}");
    assert_eq!(r["state"], "ok", "{r}");
    assert!(
        codes(r).contains(&("host-not-covered".into(), "error".into())),
        "{r}"
    );

    let r = result_for(&results, &t_foreign);
    assert_eq!(r["chain_valid"], false, "{r}");
    assert_eq!(r["chain_error_code"], "unknown_issuer", "{r}");
    assert!(!r["chain_error"].as_str().unwrap().is_empty(), "{r}");
    assert_eq!(r["hostname_match"], true, "{r}");

    let r = result_for(&results, &t_closed);
    assert_eq!(r["reachable"], false, "{r}");
    assert_eq!(r["error"], "connection refused", "{r}");
    assert!(r["sni"].is_null(), "{r}");
    for field in [
        "sha1_thumbprint",
        "not_after",
        "days_remaining",
        "state",
        "chain_valid",
        "hostname_match",
        "protocol",
        "drift",
    ] {
        assert!(r[field].is_null(), "{field}: {r}");
    }
    assert_eq!(r["findings"], serde_json::json!([]));

    let r = result_for(&results, &t_alert);
    assert_eq!(r["reachable"], false, "{r}");
    assert_eq!(
        r["error"], "handshake failure: the server sent the alert handshake_failure",
        "{r}"
    );
    assert_eq!(warnings(&out).len(), 1, "{}", describe(&out));

    // Bad usage: exit 2, naming the target; nothing on stdout.
    for bad in ["no-port.example.test", "::1:443", "a.test:443/"] {
        let out = certfleet(&["scan", "--json", bad, "--trust", arg(&root)]);
        assert_exit(&out, 2);
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(&format!("'{bad}'")),
            "{}",
            describe(&out)
        );
        assert!(out.stdout.is_empty(), "{}", describe(&out));
    }
}

/// `GET /api/scans` through curl with the admin token.
fn recorded_scans(server: &Server) -> Vec<Value> {
    let token = std::fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    let url = format!("https://{}/api/scans", server.admin);
    let auth = format!("Authorization: Bearer {}", token.trim());
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "20", "-k", "-H", &auth, &url])
        .stdin(Stdio::null())
        .output()
        .expect("failed to start curl (run scripts/install-test-deps)");
    assert!(out.status.success(), "curl: {}", describe(&out));
    let body: Value = serde_json::from_slice(&out.stdout).unwrap();
    body["scans"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .clone()
}

#[test]
fn scan_flags_drift_from_the_managed_certificate_and_records_results() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Drift");
    let mut config = ServeConfig::new(dir.path());
    let https = config.listener("web", None, None);
    let server = config.start();
    // The master domain has no certificate, so names outside the tree fall to the
    // installation's default certificate (unmanaged).
    server.domain_ok(&["add", "scan.test", "--json"]);
    server.domain_ok(&["add", "app.scan.test", "--parent", "scan.test", "--json"]);
    let managed = ca.leaf(dir.path(), "app.scan.test", &[], 90, "");
    server.domain_ok(&[
        "set-cert",
        "app.scan.test",
        arg(&managed.merged()),
        "--json",
    ]);
    let managed_sha1 = sha1_fingerprint(&managed.crt());

    let admin = format!("https://{}", server.admin);
    let root = ca.root();
    let flags = [
        "--trust",
        arg(&root),
        "--server",
        admin.as_str(),
        "--data-dir",
        arg(&server.data_dir),
    ];

    // The edge serves the managed certificate: no drift.
    let t_edge = format!("{https}/app.scan.test");
    let mut args = vec![t_edge.as_str()];
    args.extend_from_slice(&flags);
    let (out, results) = scan_json(&args);
    assert_exit(&out, 0);
    assert!(warnings(&out).is_empty(), "{}", describe(&out));
    let r = &results[0];
    assert_eq!(r["sha1_thumbprint"], managed_sha1.as_str(), "{r}");
    assert_eq!(r["drift"], false, "{r}");
    assert_eq!(r["managed_sha1_thumbprint"], managed_sha1.as_str(), "{r}");
    assert_eq!(r["chain_valid"], true, "{r}");

    // A name the server manages nothing for: drift null (it gets the default
    // certificate, which the scan judges on its own).
    let t_unmanaged = format!("{https}/elsewhere.test");
    let mut args = vec![t_unmanaged.as_str()];
    args.extend_from_slice(&flags);
    let (out, results) = scan_json(&args);
    assert_exit(&out, 1);
    let r = &results[0];
    assert!(r["drift"].is_null(), "{r}");
    assert!(r["managed_sha1_thumbprint"].is_null(), "{r}");
    assert_eq!(r["hostname_match"], false, "{r}");

    // Another endpoint deploys a different certificate for the same name: drift.
    let rogue = ca.leaf(dir.path(), "app.scan.test", &[], 90, "-rogue");
    let s_rogue = s_server(&rogue, &[]);
    let t_rogue = format!("{}/app.scan.test", s_rogue.addr);
    let mut args = vec![t_edge.as_str(), t_rogue.as_str()];
    args.extend_from_slice(&flags);
    let (out, results) = scan_json(&args);
    assert_exit(&out, 1);
    let r = result_for(&results, &t_rogue);
    assert_eq!(r["drift"], true, "{r}");
    assert_eq!(
        r["sha1_thumbprint"],
        sha1_fingerprint(&rogue.crt()).as_str(),
        "{r}"
    );
    assert_eq!(r["managed_sha1_thumbprint"], managed_sha1.as_str(), "{r}");
    assert_eq!(
        (r["chain_valid"].as_bool(), r["hostname_match"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(result_for(&results, &t_edge)["drift"], false);

    // The server holds the latest result of every scanned endpoint, one per target.
    let scans = recorded_scans(&server);
    assert_eq!(scans.len(), 3, "{scans:#?}");
    let edge = result_for(&scans, &t_edge);
    assert_eq!(edge["sha1_thumbprint"], managed_sha1.as_str());
    assert_eq!(edge["drift"], false);
    assert_eq!(edge["state"], "ok");
    assert_eq!(edge["sni"], "app.scan.test");
    assert_eq!(edge["endpoint"], https.to_string());
    assert!(
        edge["subject"].as_str().unwrap().contains("app.scan.test"),
        "{edge}"
    );
    assert!(edge["not_after"].as_str().is_some(), "{edge}");
    assert!(
        edge["scanned_at"].as_str().unwrap().ends_with('Z'),
        "{edge}"
    );
    let rogue_record = result_for(&scans, &t_rogue);
    assert_eq!(rogue_record["drift"], true);
    assert_eq!(
        rogue_record["managed_sha1_thumbprint"],
        managed_sha1.as_str()
    );
    assert!(result_for(&scans, &t_unmanaged)["drift"].is_null());

    // A later scan of the same endpoint replaces its record (scanned_at moves on).
    let before = edge["scanned_at"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(1100));
    let mut args = vec![t_edge.as_str()];
    args.extend_from_slice(&flags);
    let (out, _) = scan_json(&args);
    assert_exit(&out, 0);
    let scans = recorded_scans(&server);
    assert_eq!(scans.len(), 3, "{scans:#?}");
    let after = result_for(&scans, &t_edge)["scanned_at"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(after > before, "{before} then {after}");
    // Nothing secret went into the records.
    let text = serde_json::to_string(&scans).unwrap();
    assert!(!text.contains("PRIVATE KEY"), "{text}");

    // What the scans saw is watched with the managed certificates: the rogue leaf is in
    // `status` as seen by its scan, with its expiry; the managed leaf stays listed once,
    // as its domain's.
    let status = server.status();
    let certificates = status["certificates"].as_array().unwrap();
    let by_sha1 = |sha1: &str| -> Vec<&Value> {
        certificates
            .iter()
            .filter(|c| c["sha1_thumbprint"] == sha1)
            .collect()
    };
    let rogue_sha1 = sha1_fingerprint(&rogue.crt());
    let seen = by_sha1(&rogue_sha1);
    assert_eq!(seen.len(), 1, "{status:#}");
    assert_eq!(seen[0]["used_by"], format!("scan {t_rogue}"), "{status:#}");
    assert_eq!(seen[0]["role"], "leaf");
    assert_eq!(seen[0]["state"], "ok");
    assert!(seen[0]["domain"].is_null());
    assert_eq!(seen[0]["not_after"], rogue_record["not_after"]);
    let managed_entries = by_sha1(&managed_sha1);
    assert_eq!(managed_entries.len(), 1, "{status:#}");
    assert_eq!(managed_entries[0]["used_by"], "domain app.scan.test");
}

/// `certfleet scan --json ARGS...` with `roots` standing for the system roots
/// (`SSL_CERT_FILE`, which the system trust store loader reads).
fn scan_with_system_roots(roots: &Path, args: &[&str]) -> (Output, Vec<Value>) {
    let out = Command::new(env!("CARGO_BIN_EXE_certfleet"))
        .args(["scan", "--json"])
        .args(args)
        .env("SSL_CERT_FILE", roots)
        .env_remove("SSL_CERT_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("failed to start the certfleet binary");
    let json = stdout_json(&out);
    let results = json["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results array: {json}"))
        .clone();
    (out, results)
}

#[test]
fn endpoints_judged_by_the_system_roots_are_held_to_the_rules_of_public_cas() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Public");
    let root = ca.root();
    let no_server = dir.join("no-server");
    // 500 days: longer than a public CA may issue for (398), fine from a platform's CA.
    let long = ca.leaf(dir.path(), "long.scan.test", &[], 500, "");
    let short = ca.leaf(dir.path(), "short.scan.test", &[], 90, "");
    let s_long = s_server(&long, &[]);
    let s_short = s_server(&short, &[]);
    let t_long = format!("{}/long.scan.test", s_long.addr);
    let t_short = format!("{}/short.scan.test", s_short.addr);
    let offline = ["--data-dir", arg(&no_server)];

    // The system roots: the webpki profile.
    let (out, results) = scan_with_system_roots(
        &root,
        &[&[t_long.as_str(), t_short.as_str()], &offline[..]].concat(),
    );
    assert_exit(&out, 1);
    let r = result_for(&results, &t_long);
    assert_eq!(r["chain_valid"], false, "{r}");
    assert_eq!(r["chain_error_code"], "baseline_requirements", "{r}");
    let why = r["chain_error"].as_str().unwrap();
    assert!(
        why.contains("CN=long.scan.test") && why.contains("398 days"),
        "{why}"
    );
    let r = result_for(&results, &t_short);
    assert_eq!(r["chain_valid"], true, "{r}");
    let (out, results) = scan_with_system_roots(
        &root,
        &[&[t_long.as_str(), "--profile", "rfc5280"], &offline[..]].concat(),
    );
    assert_exit(&out, 0);
    assert_eq!(results[0]["chain_valid"], true, "{}", results[0]);

    // A trust file (a platform's CA): rfc5280 unless --profile webpki.
    let trusted = [t_long.as_str(), "--trust", arg(&root)];
    let (out, results) = scan_json(&[&trusted[..], &offline[..]].concat());
    assert_exit(&out, 0);
    assert_eq!(results[0]["chain_valid"], true, "{}", results[0]);
    let (out, results) =
        scan_json(&[&trusted[..], &["--profile", "webpki"], &offline[..]].concat());
    assert_exit(&out, 1);
    assert_eq!(results[0]["chain_error_code"], "baseline_requirements");
}

#[test]
fn the_warning_window_follows_the_servers_warn_days_unless_given() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Window");
    let mut config = ServeConfig::new(dir.path());
    config.listener("web", None, None);
    config.append("[monitor]\nwarn_days = 100\n");
    let server = config.start();
    let leaf = ca.leaf(dir.path(), "window.scan.test", &[], 90, "");
    let endpoint = s_server(&leaf, &[]);
    let target = format!("{}/window.scan.test", endpoint.addr);
    let admin = format!("https://{}", server.admin);
    let root = ca.root();
    let with_server = [
        target.as_str(),
        "--trust",
        arg(&root),
        "--server",
        admin.as_str(),
        "--data-dir",
        arg(&server.data_dir),
    ];

    // 90 days left is inside the server's 100-day window (a warning is not a problem:
    // exit 0).
    let (out, results) = scan_json(&with_server);
    assert_exit(&out, 0);
    assert_eq!(results[0]["state"], "warning", "{}", describe(&out));

    // --warn-days wins over the server's.
    let mut args = with_server.to_vec();
    args.extend_from_slice(&["--warn-days", "14"]);
    let (out, results) = scan_json(&args);
    assert_exit(&out, 0);
    assert_eq!(results[0]["state"], "ok", "{}", describe(&out));

    // Without a server to ask, the default 14 days.
    let nobody = format!("https://{}", free_addr());
    let alone = [
        target.as_str(),
        "--trust",
        arg(&root),
        "--server",
        nobody.as_str(),
        "--data-dir",
        arg(&server.data_dir),
    ];
    let (out, results) = scan_json(&alone);
    assert_eq!(results[0]["state"], "ok", "{}", describe(&out));
    assert_eq!(warnings(&out).len(), 1, "{}", describe(&out));
}
