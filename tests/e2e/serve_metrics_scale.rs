//! `/metrics` at a thousand domains, each with a certificate of its own issued by one of
//! the server's CAs: `promtool check metrics` (Debian's prometheus package) passes the
//! whole scrape, every domain's certificate is one labelled series, and the CA is one
//! series of its own.

use crate::agents_rollout::fixture::promtool_check;
use crate::support::run::describe;
use crate::support::run::TempDir;
use crate::support::serve::{ServeConfig, Server};
use certfleet_api::client::AdminClient;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde_json::json;
use std::process::{Command, Stdio};
use zeroize::Zeroizing;

/// Domains in the tree, besides the master.
const DOMAINS: usize = 1_000;
/// Clients adding them at once.
const CLIENTS: usize = 4;

fn client(server: &Server) -> AdminClient {
    let token = std::fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    let pem = std::fs::read(server.data_dir.join("default.pem")).unwrap();
    let pinned: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .unwrap();
    AdminClient::connect(
        &format!("https://{}", server.admin),
        Zeroizing::new(token.trim().to_owned()),
        pinned,
    )
    .unwrap()
}

/// `POST path` with `body`, which must succeed.
fn post(client: &AdminClient, path: &str, body: serde_json::Value) {
    let answer = client
        .send(hyper::Method::POST, path, Some(&body))
        .unwrap_or_else(|e| panic!("POST {path}: {e:#}"));
    assert!(
        (200..300).contains(&answer.status),
        "POST {path}: {} {}",
        answer.status,
        answer.body
    );
}

/// The scrape, with the admin token, as Prometheus would get it in the text format.
fn scrape(server: &Server) -> String {
    let token = std::fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "60", "-k", "-H"])
        .arg(format!("Authorization: Bearer {}", token.trim()))
        .arg(format!("https://{}/metrics", server.admin))
        .stdin(Stdio::null())
        .output()
        .expect("failed to start curl (run scripts/install-test-deps)");
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_thousand_domains_scrape_passes_promtool_with_one_series_per_certificate() {
    let dir = TempDir::new();
    let mut config = ServeConfig::new(dir.path());
    config.listener("web", None, None);
    let server = config.start();
    let admin = client(&server);
    post(&admin, "/api/domains", json!({ "name": "scale.test" }));
    post(
        &admin,
        "/api/cas",
        json!({ "name": "fleet", "cn": "Fleet Root CA", "days": 3650,
                "intermediate_cn": "Fleet Issuing CA" }),
    );

    std::thread::scope(|scope| {
        for worker in 0..CLIENTS {
            let server = &server;
            scope.spawn(move || {
                let admin = client(server);
                for i in (worker..DOMAINS).step_by(CLIENTS) {
                    let name = format!("d{i:04}.scale.test");
                    post(
                        &admin,
                        "/api/domains",
                        json!({ "name": name, "parent": "scale.test" }),
                    );
                    post(
                        &admin,
                        &format!("/api/domains/{name}/certificate/issue"),
                        json!({ "ca": "fleet", "days": 90 }),
                    );
                }
            });
        }
    });

    let metrics = scrape(&server);
    let verdict = promtool_check(&metrics);
    assert!(
        verdict.status.success(),
        "promtool check metrics: {}",
        describe(&verdict)
    );
    // Every domain's certificate is one series of the labelled family, and the CA
    // certificate every chain holds (the issuing intermediate) is one series of its own.
    let expiry: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("certfleet_certificate_not_after_timestamp_seconds{"))
        .collect();
    let domains = expiry
        .iter()
        .filter(|l| l.contains("kind=\"domain\"") && l.contains(".scale.test\""))
        .count();
    assert_eq!(domains, DOMAINS, "{} series", expiry.len());
    let ca_series: Vec<&&str> = expiry
        .iter()
        .filter(|l| l.contains("kind=\"ca\""))
        .collect();
    let issuing = ca_series
        .iter()
        .filter(|l| l.contains("Fleet Issuing CA"))
        .count();
    assert_eq!(issuing, 1, "{ca_series:#?}");
    eprintln!(
        "scrape at {DOMAINS} domains: {} bytes, {} lines",
        metrics.len(),
        metrics.lines().count()
    );
}
