//! `GET /metrics` of a running `certfleet serve` as a Prometheus server scrapes it: with
//! the read-only `[metrics]` token (from a token file), which opens nothing else; the
//! labelled certificate series with one series per CA certificate; a scanned endpoint's
//! probe series; each listener's handshake and request counters moving with real
//! handshakes (openssl, curl); the build's details as `certfleet version` prints them;
//! and `promtool check metrics` passing the whole scrape.

use crate::agents_rollout::fixture::promtool_check;
use crate::serve_monitor::openssl_not_after;
use crate::support::openssl::sha1_fingerprint;
use crate::support::pki::{Ca, Leaf};
use crate::support::run::{arg, assert_ok, certfleet, describe, TempDir};
use crate::support::serve::{s_client, ServeConfig, Server};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The scrape token, as the token file holds it.
const SCRAPE_TOKEN: &str = "e2e-scrape-token-4f1c9a7d2b";

/// `GET PATH` on the admin listener through curl with `token` as the bearer token; the
/// status code and the body.
fn get(server: &Server, path: &str, token: &str) -> (u16, String) {
    let url = format!("https://{}{path}", server.admin);
    let auth = format!("Authorization: Bearer {token}");
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "30",
            "-k",
            "-H",
            &auth,
            "-w",
            "\n%{http_code}",
            &url,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("failed to start curl (run scripts/install-test-deps)");
    assert!(out.status.success(), "curl {path}: {}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_owned())
}

/// A scrape with the scrape token (the Prometheus text format, as curl gets it).
fn scrape(server: &Server) -> String {
    let (code, text) = get(server, "/metrics", SCRAPE_TOKEN);
    assert_eq!(code, 200, "{text}");
    text
}

/// The value of the one sample of `family` whose labels include every `labels` pair.
fn sample(metrics: &str, family: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .collect();
    assert!(found.len() <= 1, "{family} {labels:?}: {found:#?}");
    found
        .first()
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
}

/// The sum of every sample of `family` whose labels include every `labels` pair.
fn total(metrics: &str, family: &str, labels: &[(&str, &str)]) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum()
}

/// Scrapes until `done` holds for a scrape (up to 60 s), and returns that scrape.
fn scrape_until(server: &Server, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let metrics = scrape(server);
        if done(&metrics) {
            return metrics;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not seen within 60 s\n{metrics}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn set_cert(server: &Server, name: &str, leaf: &Leaf) {
    server.domain_ok(&["add", name, "--json"]);
    server.domain_ok(&["set-cert", name, arg(&leaf.merged()), "--json"]);
}

/// Writes the scrape token to a file only its owner may read.
fn token_file(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("metrics.token");
    std::fs::write(&path, format!("{SCRAPE_TOKEN}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    path
}

/// `certfleet scan TARGET` against the server, recording the result there.
fn scan(server: &Server, target: &str, root: &Path) {
    let admin = format!("https://{}", server.admin);
    let out = certfleet(&[
        "scan",
        "--json",
        target,
        "--trust",
        arg(root),
        "--server",
        &admin,
        "--data-dir",
        arg(&server.data_dir),
    ]);
    assert_ok(&out);
}

#[test]
fn a_scrape_with_the_metrics_token_labels_certificates_probes_and_listeners() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Metrics");
    let mut config = ServeConfig::new(dir.path());
    let web: SocketAddr = config.listener("web", None, None);
    config.append(&format!(
        "[metrics]\ntoken_file = {:?}\n",
        arg(&token_file(dir.path()))
    ));
    let server = config.start();
    let one = ca.leaf(dir.path(), "one.metrics.test", &[], 90, "");
    let two = ca.leaf(dir.path(), "two.metrics.test", &[], 60, "");
    set_cert(&server, "one.metrics.test", &one);
    set_cert(&server, "two.metrics.test", &two);

    // The scrape token opens /metrics and nothing else; the admin token opens both.
    let admin_token = std::fs::read_to_string(server.data_dir.join("admin.token")).unwrap();
    for path in ["/api/status", "/api/domains", "/api/alerts", "/api/scans"] {
        let (code, body) = get(&server, path, SCRAPE_TOKEN);
        assert!(code == 401 || code == 403, "{path}: {code} {body}");
    }
    let (code, _) = get(&server, "/metrics", "e2e-scrape-token-4f1c9a7d2X");
    assert_eq!(code, 401);
    let (code, _) = get(&server, "/metrics", admin_token.trim());
    assert_eq!(code, 200);
    let (code, _) = get(&server, "/api/status", admin_token.trim());
    assert_eq!(code, 200);

    // A scan of the edge, recorded on the server: its probe series.
    let target = format!("{web}/two.metrics.test");
    scan(&server, &target, &ca.root());

    // One series for each CA certificate, though both domains' chains hold them, named
    // as CAs of their own; each leaf labelled by its domain.
    let metrics = scrape(&server);
    let not_after = "certfleet_certificate_not_after_timestamp_seconds";
    for (cert, role) in [
        (ca.dir().join("intermediate.crt"), "intermediate"),
        (ca.root(), "root"),
    ] {
        let sha1 = sha1_fingerprint(&cert);
        let series: Vec<&str> = metrics
            .lines()
            .filter(|l| l.starts_with(not_after) && l.contains(&sha1))
            .collect();
        assert_eq!(series.len(), 1, "{sha1}: {series:#?}\n{metrics}");
        for label in [
            "kind=\"ca\"",
            "domain=\"\"",
            "platform=\"\"",
            "service=\"\"",
            &format!("role=\"{role}\""),
        ] {
            assert!(series[0].contains(label), "{label}: {}", series[0]);
        }
        assert!(
            series[0].ends_with(&format!(" {}", openssl_not_after(&cert))),
            "{}",
            series[0]
        );
    }
    for (leaf, name) in [(&one, "one.metrics.test"), (&two, "two.metrics.test")] {
        let labels = [
            ("kind", "domain"),
            ("name", name),
            ("domain", name),
            ("role", "leaf"),
        ];
        assert_eq!(
            sample(&metrics, not_after, &labels),
            Some(openssl_not_after(&leaf.crt()) as f64),
            "{name}\n{metrics}"
        );
        let sha1 = sha1_fingerprint(&leaf.crt());
        assert_eq!(
            sample(&metrics, "certfleet_certificate_info", &[("sha1", &sha1)]),
            Some(1.0),
            "{metrics}"
        );
    }
    // The documented family keeps its labels.
    assert!(
        metrics.lines().any(
            |l| l.starts_with("certfleet_certificate_expiry_timestamp_seconds{")
                && l.contains("used_by=\"domain one.metrics.test\"")
        ),
        "{metrics}"
    );

    // The scanned endpoint: reached, valid, earliest expiry the leaf's (60 days, before
    // its CAs').
    let probe = [("target", target.as_str())];
    assert_eq!(
        sample(&metrics, "certfleet_scan_success", &probe),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "certfleet_scan_earliest_expiry_seconds", &probe),
        Some(openssl_not_after(&two.crt()) as f64),
        "{metrics}"
    );
    let scanned = sample(&metrics, "certfleet_scan_last_time_seconds", &probe).unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as f64;
    assert!(scanned <= now && scanned > now - 3600.0, "{scanned}");

    // The build, as `certfleet version --json` says.
    let version = certfleet(&["version", "--json"]);
    assert_ok(&version);
    let build: serde_json::Value = serde_json::from_slice(&version.stdout).unwrap();
    let features: Vec<&str> = build["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let joined = features.join(",");
    let build_labels = [
        ("version", build["version"].as_str().unwrap()),
        ("profile", build["profile"].as_str().unwrap()),
        ("target_os", build["target_os"].as_str().unwrap()),
        ("features", joined.as_str()),
    ];
    assert_eq!(
        sample(&metrics, "certfleet_build_info", &build_labels),
        Some(1.0),
        "{metrics}"
    );

    // A handshake with the web listener counts there; a request counts by its class.
    let handshakes = "certfleet_edge_handshakes_total";
    let requests = "certfleet_edge_requests_total";
    let ok = [("listener", "web"), ("result", "ok")];
    let before_ok = sample(&metrics, handshakes, &ok).unwrap();
    let before_requests = total(&metrics, requests, &[("listener", "web")]);
    let out = s_client(web, Some("one.metrics.test"), &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("BEGIN CERTIFICATE"),
        "{}",
        describe(&out)
    );
    let metrics = scrape_until(&server, "the handshake counted", |m| {
        sample(m, handshakes, &ok) == Some(before_ok + 1.0)
    });
    assert_eq!(
        total(&metrics, requests, &[("listener", "web")]),
        before_requests
    );
    let url = format!("https://one.metrics.test:{}/", web.port());
    let resolve = format!("one.metrics.test:{}:127.0.0.1", web.port());
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "30", "-k", "--resolve", &resolve, &url])
        .stdin(Stdio::null())
        .output()
        .expect("failed to start curl");
    assert!(out.status.success(), "{}", describe(&out));
    let metrics = scrape_until(&server, "the request counted", |m| {
        total(m, requests, &[("listener", "web")]) == before_requests + 1.0
    });
    assert_eq!(
        sample(&metrics, handshakes, &ok),
        Some(before_ok + 2.0),
        "{metrics}"
    );
    // The admin listener counts the scrapes themselves.
    assert!(
        sample(
            &metrics,
            requests,
            &[("listener", "admin"), ("code_class", "2xx")]
        )
        .unwrap()
            >= 3.0,
        "{metrics}"
    );
    assert!(
        sample(
            &metrics,
            requests,
            &[("listener", "admin"), ("code_class", "4xx")]
        )
        .unwrap()
            >= 5.0,
        "{metrics}"
    );

    // promtool passes the whole scrape, lint included.
    let verdict = promtool_check(&metrics);
    let findings = String::from_utf8_lossy(&verdict.stderr).into_owned();
    assert!(
        verdict.status.success() && findings.trim().is_empty(),
        "promtool check metrics: {findings}\n{metrics}"
    );
    assert!(!server.logs().contains(SCRAPE_TOKEN), "{}", server.logs());
}
