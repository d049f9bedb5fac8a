//! `certfleet ca list|show|create|sign|issue` against a running `certfleet serve`, with
//! the client settings taken from CERTFLEET_SERVER and CERTFLEET_DATA_DIR: a CA made on
//! the server lists and shows, a CSR made by openssl is signed and verifies against the
//! CA's certificate, and a domain's certificate issued from it is what a handshake with
//! the domain's SNI gets. That certificate renews itself two thirds into its lifetime
//! (a new serial on the next handshake, `ca.renew` in the audit log) until a certificate
//! uploaded by hand ends the renewal.

use crate::support::https::request;
use crate::support::openssl::{openssl, openssl_verify};
use crate::support::run::{arg, assert_ok, certfleet_with_env, describe, stdout, TempDir};
use crate::support::serve::{s_client, served_sha1, ServeConfig, Server};
use serde_json::Value;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

/// `certfleet ARGS...` as a client of `server`, configured through the environment.
fn cli(server: &Server, args: &[&str]) -> Output {
    let url = format!("https://{}", server.admin);
    let vars = [
        ("CERTFLEET_SERVER", url.as_str()),
        ("CERTFLEET_DATA_DIR", arg(&server.data_dir)),
    ];
    certfleet_with_env(&server.data_dir, args, &vars)
}

/// [`cli`] that must succeed; its standard output.
fn cli_ok(server: &Server, args: &[&str]) -> String {
    let out = cli(server, args);
    assert_ok(&out);
    stdout(&out)
}

/// [`cli_ok`] with `--json`, parsed.
fn cli_json(server: &Server, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let text = cli_ok(server, &all);
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"))
}

/// `GET path` on the admin API with the admin token.
fn api_get(server: &Server, path: &str) -> String {
    let token = fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    let headers = [format!("Authorization: Bearer {}", token.trim())];
    let answer = request(
        "GET",
        &format!("https://{}{path}", server.admin),
        &headers,
        None,
    );
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    answer.body
}

/// The CA's root certificate, written to `dir/NAME-root.pem`.
fn root_of(server: &Server, dir: &Path, ca: &str) -> PathBuf {
    let chain = api_get(server, &format!("/api/cas/{ca}/certificate"));
    let end = "-----END CERTIFICATE-----\n";
    let root = dir.join(format!("{ca}-root.pem"));
    fs::write(&root, chain.split_inclusive(end).next().unwrap()).unwrap();
    root
}

/// A key and a self-signed certificate for `cn` made by openssl, merged into one
/// bundle; the bundle's path.
fn openssl_bundle(dir: &Path, cn: &str, x509: bool) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{cn}.key"));
    let out_file = dir.join(format!("{cn}.{}", if x509 { "crt" } else { "csr" }));
    let subject = format!("/CN={cn}");
    let san = format!("subjectAltName=DNS:{cn}");
    let mut args = vec!["req", "-new", "-newkey", "ec", "-pkeyopt"];
    args.extend(["ec_paramgen_curve:P-256", "-nodes", "-keyout", arg(&key)]);
    args.extend(["-subj", &subject, "-addext", &san, "-out", arg(&out_file)]);
    if x509 {
        args.extend(["-x509", "-days", "30"]);
    }
    let out = openssl(&args);
    assert!(out.status.success(), "{}", describe(&out));
    (key, out_file)
}

/// The serial number (hex, as openssl prints it) of the leaf a handshake with `sni`
/// gets, after checking that the chain verifies against `root` when one is given.
fn served_serial(addr: SocketAddr, sni: &str, root: Option<&Path>) -> String {
    let mut extra = Vec::new();
    if let Some(root) = root {
        extra.extend(["-CAfile", arg(root), "-verify_return_error"]);
        extra.extend(["-verify_hostname", sni]);
    }
    let out = s_client(addr, Some(sni), &extra);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if root.is_some() {
        assert!(
            text.contains("Verify return code: 0 (ok)"),
            "{}",
            describe(&out)
        );
    }
    let begin = text.find("-----BEGIN CERTIFICATE-----").unwrap();
    let end = "-----END CERTIFICATE-----";
    let pem_end = text.find(end).unwrap() + end.len();
    let dir = TempDir::new();
    let leaf = dir.join("served.pem");
    fs::write(&leaf, &text[begin..pem_end]).unwrap();
    let out = openssl(["x509", "-noout", "-serial", "-in", arg(&leaf)]);
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn server_cas_are_created_listed_shown_and_sign_csrs() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    config.listener("web", None, None);
    let server = config.start();

    assert_eq!(cli_json(&server, &["ca", "list"]), Value::Array(Vec::new()));
    assert!(cli_ok(&server, &["ca", "list"]).contains("no CAs yet"));

    let made = cli_json(
        &server,
        &[
            "ca",
            "create",
            "internal",
            "--cn",
            "E2E Root",
            "--org",
            "Example Corp",
            "--country",
            "US",
            "--intermediate-cn",
            "E2E Issuing",
            "--key",
            "ecdsa-p384",
            "--days",
            "400",
        ],
    );
    assert_eq!(made["name"], "internal", "{made}");
    assert_eq!(made["key_algorithm"], "ecdsa-p384", "{made}");
    assert_eq!(
        made["subject"], "C=US, O=Example Corp, CN=E2E Issuing",
        "{made}"
    );
    assert_eq!(
        made["issuer"], "C=US, O=Example Corp, CN=E2E Root",
        "{made}"
    );
    let again = cli(&server, &["ca", "create", "internal"]);
    assert!(!again.status.success(), "{}", describe(&again));
    assert!(stdout(&again).is_empty() && describe(&again).contains("exists already"));

    let listed = cli_ok(&server, &["ca", "list"]);
    assert!(listed.starts_with("internal "), "{listed}");
    assert!(listed.contains("days left"), "{listed}");

    let (_, csr) = openssl_bundle(dir.path(), "svc.example.test", false);
    let signed = dir.join("svc.crt");
    let text = cli_ok(
        &server,
        &[
            "ca",
            "sign",
            "internal",
            "--csr",
            arg(&csr),
            "--days",
            "30",
            "--out",
            arg(&signed),
        ],
    );
    assert!(text.contains("signed CN=svc.example.test"), "{text}");
    let written = fs::read_to_string(&signed).unwrap();
    assert_eq!(written.matches("BEGIN CERTIFICATE").count(), 3, "{written}");
    let root = root_of(&server, dir.path(), "internal");
    openssl_verify(&root, Some(&signed), &signed).unwrap();

    let shown = cli_ok(&server, &["ca", "show", "internal"]);
    for expected in [
        "subject:      C=US, O=Example Corp, CN=E2E Issuing",
        "key:          ecdsa-p384",
        "days left)",
        "root SHA-1:",
        "issued:       1 certificate(s)",
        "sign      CN=svc.example.test",
    ] {
        assert!(shown.contains(expected), "no {expected:?} in\n{shown}");
    }
    let shown = cli_json(&server, &["ca", "show", "internal"]);
    assert_eq!(shown["issued"][0]["action"], "ca.sign", "{shown}");

    let refused = cli(&server, &["ca", "sign", "nope", "--csr", arg(&csr)]);
    assert!(!refused.status.success());
    assert!(
        describe(&refused).contains("no CA is named nope"),
        "{}",
        describe(&refused)
    );

    // The offline `ca init` is unchanged.
    let offline = dir.join("offline");
    cli_ok(
        &server,
        &["ca", "init", "--out", arg(&offline), "--cn", "Offline Root"],
    );
    assert!(offline.join("root.crt").exists() && offline.join("root.key").exists());
}

/// Waits until `name` serves a certificate other than `previous`; its `domain show`.
fn wait_renewed(server: &Server, name: &str, previous: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let view = cli_json(server, &["domain", "show", name]);
        if view["certificate"]["sha1_thumbprint"].as_str() != Some(previous) {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "{name} was not renewed within 180 s: {view}\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn unix(rfc3339: &Value) -> i64 {
    let text = rfc3339
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {rfc3339}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap()
        .unix_timestamp()
}

#[test]
fn a_domain_certificate_from_a_server_ca_is_served_and_renewed_until_an_upload() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    let web = config.listener("web", None, None);
    let server = config.start();
    let name = "shop.example.test";
    cli_json(&server, &["domain", "add", "example.test"]);
    cli_json(&server, &["domain", "add", name]);
    cli_json(
        &server,
        &[
            "ca",
            "create",
            "internal",
            "--intermediate-cn",
            "E2E Issuing",
        ],
    );
    let root = root_of(&server, dir.path(), "internal");

    // The shortest lifetime the server grants, so the renewal comes within a minute.
    let first = cli_json(
        &server,
        &[
            "ca",
            "issue",
            "internal",
            "--domain",
            name,
            "--seconds",
            "60",
            "--key",
            "rsa2048",
        ],
    );
    let cert = &first["certificate"];
    assert_eq!(cert["auto_issued"], true, "{first}");
    assert_eq!(cert["issuing_ca"], "internal", "{first}");
    let renew_at = unix(&first["acme"]["renew_at"]);
    let old_serial = served_serial(web, name, Some(&root));
    assert_eq!(
        served_sha1(web, Some(name)),
        cert["sha1_thumbprint"].as_str().unwrap(),
        "the handshake does not get the issued certificate"
    );
    let shown = cli_ok(&server, &["domain", "show", name]);
    assert!(
        shown.contains("auto:      true (renewed by CA internal)"),
        "{shown}"
    );
    // `status` exits 1: a one-minute certificate is always in the warning window.
    let status = stdout(&cli(&server, &["status"]));
    assert!(
        status.contains(&format!(
            "CA internal renews {name} (automatic): ok, renews at"
        )),
        "{status}"
    );

    let old = cert["sha1_thumbprint"].as_str().unwrap();
    let second = wait_renewed(&server, name, old);
    assert!(time::OffsetDateTime::now_utc().unix_timestamp() >= renew_at - 1);
    assert_eq!(second["certificate"]["issuing_ca"], "internal", "{second}");
    let new_serial = served_serial(web, name, Some(&root));
    assert_ne!(new_serial, old_serial, "the renewal is not served");
    let issued = cli_json(&server, &["ca", "show", "internal"]);
    let renewal = issued["issued"]
        .as_array()
        .unwrap()
        .iter()
        .find(|record| record["action"] == "ca.renew")
        .unwrap_or_else(|| panic!("no ca.renew record: {issued}"))
        .clone();
    assert_eq!(renewal["actor"], "ca-renewal", "{renewal}");
    let audit = api_get(&server, "/api/audit?limit=500");
    assert!(audit.contains("domain.ca-renewed"), "{audit}");
    assert!(
        server.logs().contains("renewed (SHA-1"),
        "{}",
        server.logs()
    );
    // The renewal keeps the key type: RSA.
    let out = s_client(web, Some(name), &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Server public key is 2048 bit"),
        "{}",
        describe(&out)
    );

    // A certificate uploaded by hand ends the renewal.
    let (key, crt) = openssl_bundle(dir.path(), name, true);
    let bundle = dir.join("bundle.pem");
    let pem = fs::read_to_string(&key).unwrap() + &fs::read_to_string(&crt).unwrap();
    fs::write(&bundle, pem).unwrap();
    let stored = cli_json(&server, &["domain", "set-cert", name, arg(&bundle)]);
    assert!(
        stored["warnings"]
            .to_string()
            .contains("automatic renewal stops"),
        "{stored}"
    );
    let uploaded = stored["domain"]["certificate"].clone();
    assert_eq!(uploaded["auto_issued"], false, "{stored}");
    assert_eq!(uploaded["issuing_ca"], Value::Null, "{stored}");
    assert_eq!(
        stored["domain"]["acme"]["renew_at"],
        Value::Null,
        "{stored}"
    );
    let status: Value =
        serde_json::from_str(&stdout(&cli(&server, &["status", "--json"]))).unwrap();
    assert_eq!(status["ca_renewals"], Value::Array(Vec::new()), "{status}");
    let uploaded_serial = served_serial(web, name, None);
    // Past the moment the replaced certificate was due, nothing replaced the upload.
    let due = unix(&second["acme"]["renew_at"]);
    while time::OffsetDateTime::now_utc().unix_timestamp() < due + 10 {
        std::thread::sleep(Duration::from_millis(500));
    }
    let view = cli_json(&server, &["domain", "show", name]);
    assert_eq!(view["certificate"], uploaded, "{view}");
    assert_eq!(served_serial(web, name, None), uploaded_serial);
}

/// The `ca.renew` audit records of `server`'s store, oldest first: (when, detail).
#[cfg(feature = "etcd")]
fn renew_records(server: &Server) -> Vec<(i64, String)> {
    let page: Value = serde_json::from_str(&api_get(server, "/api/audit?limit=500")).unwrap();
    let mut records: Vec<(i64, String)> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|record| record["action"] == "ca.renew")
        .map(|record| {
            assert_eq!(record["actor"], "ca-renewal", "{record}");
            (unix(&record["at"]), record["detail"].to_string())
        })
        .collect();
    records.sort();
    records
}

#[cfg(feature = "etcd")]
#[test]
fn in_a_cluster_one_server_renews_and_every_server_serves_the_renewal() {
    use crate::serve_cluster::start_node;
    use crate::support::etcd_cluster::EtcdCluster;

    let dir = TempDir::new();
    let etcd = EtcdCluster::start(1);
    let a = start_node(dir.path(), "a", &etcd, None);
    let b = start_node(dir.path(), "b", &etcd, Some(&a.server.data_dir));
    let name = "shop.example.test";
    cli_json(&a.server, &["domain", "add", "example.test"]);
    cli_json(&a.server, &["domain", "add", name]);
    cli_json(&a.server, &["ca", "create", "internal"]);
    let root = root_of(&a.server, dir.path(), "internal");
    let first = cli_json(
        &a.server,
        &[
            "ca",
            "issue",
            "internal",
            "--domain",
            name,
            "--seconds",
            "60",
        ],
    );
    let old = first["certificate"]["sha1_thumbprint"].as_str().unwrap();

    // Node B sees the renewal through the store, whichever node made it.
    let second = wait_renewed(&b.server, name, old);
    let new_serial = served_serial(b.https, name, Some(&root));
    let deadline = Instant::now() + Duration::from_secs(30);
    while served_serial(a.https, name, None) != new_serial {
        assert!(
            Instant::now() < deadline,
            "node A does not serve the renewal"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(second["certificate"]["issuing_ca"], "internal", "{second}");
    // One renewal per due moment: renewals of one certificate by both servers would be
    // seconds apart, while a one-minute certificate is due 40 s after the previous one.
    let records = renew_records(&a.server);
    assert!(!records.is_empty(), "no ca.renew record");
    for pair in records.windows(2) {
        assert!(pair[1].0 - pair[0].0 >= 20, "renewed twice: {records:?}");
    }
}
