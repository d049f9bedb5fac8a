//! The edge's `https://` upstreams trusted through the system roots (`upstream_trust =
//! true`) are held to the webpki profile: `certfleet serve` runs with `SSL_CERT_FILE`
//! naming a test root (the system roots as the loader reads them) and proxies to two
//! `openssl s_server`s, one presenting a leaf a public CA may issue (90 days), one a leaf
//! it may not (500 days, over the 398 allowed). The first answers through the edge, the
//! second is refused with a 502 and the reason in the log; a route trusting the same
//! root as a CA file (a platform's own CA) still reaches it.

use crate::support::https::request;
use crate::support::openssl::SServer;
use crate::support::pki::Ca;
use crate::support::run::{arg, assert_ok, certfleet, TempDir};
use crate::support::serve::ServeConfig;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// An `openssl s_server` serving `PREFIX.crt` with `PREFIX.key` and `PREFIX.chain.crt`.
fn upstream(prefix: &Path) -> SServer {
    let file = |ending: &str| PathBuf::from(format!("{}{ending}", prefix.display()));
    SServer::start(&file(".crt"), &file(".key"), Some(&file(".chain.crt")), &[])
}

/// A leaf for `upstream.test` and the IP address 127.0.0.1 (what the edge connects to),
/// valid `days` days; returns its file prefix.
fn upstream_leaf(ca: &Ca, dir: &Path, days: u32) -> PathBuf {
    let prefix = dir.join(format!("upstream-{days}"));
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--ca",
        arg(ca.dir()),
        "--cn",
        "upstream.test",
        "--ip",
        "127.0.0.1",
        "--days",
        &days.to_string(),
        "--out",
        arg(&prefix),
    ]));
    prefix
}

#[test]
fn upstreams_trusted_by_the_system_roots_are_held_to_the_webpki_profile() {
    let dir = TempDir::new();
    let public = Ca::new(dir.path(), "Public");
    let fine = upstream(&upstream_leaf(&public, dir.path(), 90));
    let long = upstream(&upstream_leaf(&public, dir.path(), 500));
    let edge_ca = Ca::new(dir.path(), "Edge");
    let certdir = dir.join("edge-certs");
    edge_ca
        .leaf(
            dir.path(),
            "fine.test",
            &["long.test", "private.test"],
            30,
            "",
        )
        .install_certdir(&certdir);

    let mut serve = ServeConfig::new(dir.path());
    serve.env("SSL_CERT_FILE", arg(&public.root()));
    let edge = serve.listener("web", Some(arg(&certdir)), None);
    serve.append(&format!(
        "[[route]]\nhost = \"fine.test\"\nupstream = \"https://{}\"\n\
         [[route]]\nhost = \"long.test\"\nupstream = \"https://{}\"\n\
         [[route]]\nhost = \"private.test\"\nupstream = \"https://{}\"\nupstream_trust = {:?}\n",
        fine.addr,
        long.addr,
        long.addr,
        arg(&public.root()),
    ));
    let server = serve.start();
    let url = format!("https://127.0.0.1:{}/", edge.port());
    let get = |host: &str| request("GET", &url, &[format!("Host: {host}")], None);

    let answer = get("fine.test");
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, server.logs());
    let answer = get("long.test");
    assert_eq!(answer.status, 502, "{}", answer.body);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !server.logs().contains("398 days") {
        assert!(
            Instant::now() < deadline,
            "the refusal's reason is not in the log:\n{}",
            server.logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let answer = get("private.test");
    assert_eq!(answer.status, 200, "{}\n{}", answer.body, server.logs());
}
