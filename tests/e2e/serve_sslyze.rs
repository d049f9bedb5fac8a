//! The edge's TLS settings judged by real peers: sslyze finds a
//! `tls_profile = "intermediate"` listener compliant with Mozilla's intermediate
//! configuration and a `"modern"` one with modern (and the intermediate listener not
//! compliant with modern, so the scan is seen to judge), and `openssl s_client` shows
//! that the server itself refuses TLS 1.0 and 1.1 (and 1.2 on modern) while the same
//! command shape succeeds with the versions the profile allows. A certificate issued
//! with `cert issue`'s default validity (365 days) passes intermediate's lifetime rule
//! (at most 366 days).

use crate::support::pki::Ca;
use crate::support::run::{arg, assert_ok, certfleet, describe, TempDir};
use crate::support::serve::{s_client, ServeConfig, Server};
use crate::support::venv::venv_tool;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The name the domain certificate is for, sent as SNI.
const NAME: &str = "tls.example.test";

struct Edge {
    _dir: TempDir,
    _server: Server,
    root: PathBuf,
    intermediate: SocketAddr,
    modern: SocketAddr,
}

/// A server with an intermediate and a modern listener, and a domain whose certificate
/// is an ECDSA P-256 leaf from an internal CA, valid 90 days (modern's longest).
fn edge() -> Edge {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Sslyze");
    let leaf = ca.leaf(dir.path(), NAME, &[], 90, "");
    edge_serving(dir, ca.root(), &leaf.merged())
}

/// A server in `dir` with an intermediate and a modern listener, serving the merged
/// file `merged` (key, leaf, chain up to `root`) as the domain's certificate.
fn edge_serving(dir: TempDir, root: PathBuf, merged: &Path) -> Edge {
    let mut config = ServeConfig::new(dir.path());
    let intermediate = config.listener("ws", None, Some("intermediate"));
    let modern = config.listener("api", None, Some("modern"));
    let server = config.start();
    server.domain_ok(&["add", NAME, "--json"]);
    server.domain_ok(&["set-cert", NAME, arg(merged), "--json"]);
    for role in ["ws", "api"] {
        let resolved = server.resolve(NAME, role);
        assert_eq!(resolved["source"], "domain", "{resolved}");
    }
    Edge {
        _dir: dir,
        _server: server,
        root,
        intermediate,
        modern,
    }
}

/// `sslyze --mozilla_config=PROFILE --certinfo_ca_file ROOT 'NAME:PORT{127.0.0.1}'`:
/// whether sslyze said compliant, and everything it printed.
fn sslyze(profile: &str, root: &Path, addr: SocketAddr) -> (bool, String) {
    let target = format!("{NAME}:{}{{{}}}", addr.port(), addr.ip());
    let out = Command::new(venv_tool("sslyze", "sslyze"))
        .arg(format!("--mozilla_config={profile}"))
        .args(["--certinfo_ca_file", arg(root), &target])
        .stdin(Stdio::null())
        .output()
        .expect("failed to start sslyze");
    let text = describe(&out);
    // An unreachable server also exits 0: the verdict line decides, and a
    // scan that did not complete prints neither verdict.
    let compliant = text.contains("OK - Compliant");
    let not_compliant = text.contains("FAILED - Not compliant");
    assert!(
        compliant != not_compliant,
        "sslyze gave no single verdict for {target} ({profile}):\n{text}"
    );
    assert_eq!(
        out.status.success(),
        compliant,
        "sslyze's exit status disagrees with its verdict:\n{text}"
    );
    (compliant, text)
}

#[test]
fn sslyze_finds_each_listener_compliant_with_its_mozilla_profile() {
    let edge = edge();
    let root = edge.root.clone();
    // The three scans are independent; run them side by side.
    let scans = [
        ("intermediate", edge.intermediate),
        ("modern", edge.modern),
        ("modern", edge.intermediate),
    ]
    .map(|(profile, addr)| {
        let root = root.clone();
        std::thread::spawn(move || sslyze(profile, &root, addr))
    })
    .map(|scan| scan.join().unwrap());
    let [(intermediate_ok, intermediate), (modern_ok, modern), (strict_ok, strict)] = scans;
    println!("sslyze, intermediate listener:\n{intermediate}");
    println!("sslyze, modern listener:\n{modern}");
    assert!(
        intermediate_ok,
        "intermediate listener not compliant:\n{intermediate}"
    );
    assert!(modern_ok, "modern listener not compliant:\n{modern}");
    // The intermediate listener also speaks TLS 1.2, which modern forbids.
    assert!(
        !strict_ok && strict.contains("tls_versions"),
        "the intermediate listener passed as modern:\n{strict}"
    );
}

/// sslyze's name for the Mozilla rule on the leaf's lifetime (366 days for intermediate,
/// 90 for modern).
const LIFESPAN_RULE: &str = "maximum_certificate_lifespan";

#[test]
fn a_certificate_issued_with_the_default_validity_passes_the_intermediate_check() {
    let dir = TempDir::new();
    let ca = Ca::new(dir.path(), "Default");
    let prefix = dir.join(NAME);
    // No --days: the default lifetime of `cert issue` (365 days).
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--ca",
        arg(ca.dir()),
        "--cn",
        NAME,
        "--out",
        arg(&prefix),
    ]));
    let merged = dir.join(&format!("{NAME}.pem"));
    let edge = edge_serving(dir, ca.root(), &merged);
    let (intermediate_ok, intermediate) = sslyze("intermediate", &edge.root, edge.intermediate);
    println!("sslyze, intermediate listener, default validity:\n{intermediate}");
    assert!(
        intermediate_ok && !intermediate.contains(LIFESPAN_RULE),
        "a default-validity certificate is not compliant with intermediate:\n{intermediate}"
    );
    // The same certificate is too long-lived for modern: proof that sslyze read its
    // lifetime, and that the lifetime is the default.
    let (modern_ok, modern) = sslyze("modern", &edge.root, edge.modern);
    assert!(
        !modern_ok && modern.contains(LIFESPAN_RULE) && modern.contains("life span is 365 days"),
        "sslyze did not judge the certificate's 365-day lifetime against modern:\n{modern}"
    );
}

/// Whether a handshake with `version` (an s_client flag such as `-tls1`) succeeds at
/// `addr`. The client allows every version and cipher (`@SECLEVEL=0`), so a refusal
/// comes from the server; a refusal must be an alert the server sent (rustls answers a
/// ClientHello without TLS 1.2 or 1.3 with handshake_failure), not a local error.
fn handshake_with(addr: SocketAddr, version: &str) -> bool {
    let out = s_client(
        addr,
        Some(NAME),
        &["-brief", version, "-cipher", "DEFAULT@SECLEVEL=0"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let label = match version {
        "-tls1" => "TLSv1",
        "-tls1_1" => "TLSv1.1",
        "-tls1_2" => "TLSv1.2",
        "-tls1_3" => "TLSv1.3",
        other => panic!("unexpected version flag {other}"),
    };
    // `-brief` reports an established connection on stderr with its protocol version.
    let protocol = format!("Protocol version: {label}");
    let negotiated = stderr.contains("CONNECTION ESTABLISHED")
        && stderr.lines().any(|line| line.trim() == protocol);
    if out.status.success() && negotiated {
        return true;
    }
    assert!(
        !stderr.contains("no protocols available"),
        "openssl refused {version} itself, proving nothing about the server:\n{}",
        describe(&out)
    );
    // openssl reports an alert received from the peer as "... alert ...: SSL alert
    // number N"; one it sends itself does not reach stderr that way.
    assert!(
        stderr.contains("SSL alert number"),
        "{version} failed without an alert from the server:\n{}",
        describe(&out)
    );
    false
}

#[test]
fn the_server_refuses_protocol_versions_its_profile_excludes() {
    let edge = edge();
    assert!(!handshake_with(edge.intermediate, "-tls1"));
    assert!(!handshake_with(edge.intermediate, "-tls1_1"));
    assert!(handshake_with(edge.intermediate, "-tls1_2"));
    assert!(handshake_with(edge.intermediate, "-tls1_3"));
    assert!(!handshake_with(edge.modern, "-tls1"));
    assert!(!handshake_with(edge.modern, "-tls1_1"));
    assert!(!handshake_with(edge.modern, "-tls1_2"));
    assert!(handshake_with(edge.modern, "-tls1_3"));
}
