//! `certfleet serve` with `certfleet domain ...` driving its admin API: domains added,
//! certificates set (and refused), `domain resolve` explaining SNI selection, and the
//! handshakes openssl makes getting exactly the certificates `resolve` names. The tree
//! survives a restart.

use crate::support::openssl::sha1_fingerprint;
use crate::support::pki::self_signed;
use crate::support::run::{arg, assert_exit, assert_ok, certfleet, describe, TempDir};
use crate::support::serve::{served_sha1, ServeConfig, Server};
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A server with one `ws` listener without certdir; returns it and that listener.
fn start(dir: &Path) -> (Server, SocketAddr) {
    let mut config = ServeConfig::new(dir);
    let ws = config.listener("ws", None, None);
    (config.start(), ws)
}

/// `certfleet cert issue --self-signed --cn CN`; returns the merged `.pem` and the `.crt`.
fn self_signed_files(dir: &Path, cn: &str) -> (PathBuf, PathBuf) {
    let leaf = self_signed(dir, cn);
    (leaf.merged(), leaf.crt())
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn domains_set_through_the_admin_api_decide_what_handshakes_get() {
    let dir = TempDir::new();
    let (server, ws) = start(dir.path());

    let master = server.domain_ok(&["add", "example.test", "--json"]);
    assert_eq!(master["name"], "example.test");
    assert!(master["parent"].is_null(), "{master}");
    let shop = server.domain_ok(&["add", "shop.example.test", "--json"]);
    assert_eq!(shop["parent"], "example.test");
    server.domain_ok(&[
        "add",
        "api.shop.example.test",
        "--parent",
        "shop.example.test",
        "--json",
    ]);
    server.domain_ok(&["add", "blog.example.test", "--json"]);
    // A duplicate is a conflict, shown with the server's message.
    let again = server.domain(&["add", "shop.example.test"]);
    assert_exit(&again, 2);
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        describe(&again)
    );

    let (master_pem, master_crt) = self_signed_files(dir.path(), "example.test");
    let (shop_pem, shop_crt) = self_signed_files(dir.path(), "shop.example.test");
    let (blog_pem, blog_crt) = self_signed_files(dir.path(), "blog.example.test");
    let (other_pem, _) = self_signed_files(dir.path(), "other.example.test");

    let set = server.domain_ok(&["set-cert", "example.test", arg(&master_pem), "--json"]);
    assert_eq!(
        set["domain"]["certificate"]["sha1_thumbprint"],
        sha1_fingerprint(&master_crt).as_str()
    );
    assert!(
        !set.to_string().contains("PRIVATE KEY"),
        "key material in {set}"
    );
    server.domain_ok(&["set-cert", "shop.example.test", arg(&shop_pem), "--json"]);

    // A certificate that does not cover the name is refused (exit 2, the server's reason).
    let wrong_name = server.domain(&["set-cert", "blog.example.test", arg(&shop_pem)]);
    assert_exit(&wrong_name, 2);
    assert!(
        stderr(&wrong_name).contains("does not cover"),
        "{}",
        describe(&wrong_name)
    );
    // A key that is not the certificate's is refused, even with --force.
    let blog_text = fs::read_to_string(&blog_pem).unwrap();
    let other_text = fs::read_to_string(&other_pem).unwrap();
    let key_of = |text: &str| {
        let start = text.find("-----BEGIN").unwrap();
        let end_marker = "PRIVATE KEY-----";
        let end = text.rfind(end_marker).unwrap() + end_marker.len();
        text[start..end].to_owned()
    };
    let cert_of = |text: &str| {
        let start = text.find("-----BEGIN CERTIFICATE-----").unwrap();
        text[start..].to_owned()
    };
    let mismatched = dir.join("mismatched.pem");
    fs::write(
        &mismatched,
        format!("{}\n{}", key_of(&other_text), cert_of(&blog_text)),
    )
    .unwrap();
    for extra in [None, Some("--force")] {
        let mut args = vec!["set-cert", "blog.example.test", arg(&mismatched)];
        args.extend(extra);
        let out = server.domain(&args);
        assert_exit(&out, 2);
    }
    // A missing file is named.
    let missing = dir.join("missing.pem");
    let out = server.domain(&["set-cert", "blog.example.test", arg(&missing)]);
    assert_exit(&out, 2);
    assert!(stderr(&out).contains("missing.pem"), "{}", describe(&out));
    // A bundle pasted flat, with a metadata prefix, is accepted.
    let flat = dir.join("flat.pem");
    fs::write(
        &flat,
        format!("date=2026-01-01T00:00:00Z\n{blog_text}").replace('\n', " "),
    )
    .unwrap();
    server.domain_ok(&["set-cert", "blog.example.test", arg(&flat), "--json"]);

    let show = server.domain_ok(&["show", "api.shop.example.test", "--json"]);
    assert_eq!(show["parent"], "shop.example.test");
    assert!(show["certificate"].is_null(), "{show}");
    assert_eq!(show["acme"]["enabled"], false);
    assert!(show["acme"].get("renew_at").is_some(), "{show}");
    let acme = server.domain_ok(&[
        "acme",
        "api.shop.example.test",
        "--email",
        "ops@example.test",
        "--json",
    ]);
    assert_eq!(acme["acme"]["enabled"], true);
    assert_eq!(acme["acme"]["email"], "ops@example.test");
    let bad_email = server.domain(&["acme", "api.shop.example.test", "--email", "nobody"]);
    assert_exit(&bad_email, 2);
    assert!(
        stderr(&bad_email).contains("email"),
        "{}",
        describe(&bad_email)
    );

    let list = server.domain_ok(&["list", "--json"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "api.shop.example.test",
            "blog.example.test",
            "example.test",
            "shop.example.test"
        ]
    );
    assert!(!list.to_string().contains("PRIVATE KEY"));

    let master_sha1 = sha1_fingerprint(&master_crt);
    let shop_sha1 = sha1_fingerprint(&shop_crt);
    let blog_sha1 = sha1_fingerprint(&blog_crt);
    let cases = [
        // exact match
        ("shop.example.test", "shop.example.test", &shop_sha1),
        ("blog.example.test", "blog.example.test", &blog_sha1),
        // an exact domain without a certificate inherits its parent's
        ("api.shop.example.test", "shop.example.test", &shop_sha1),
        // an unknown name starts at its first parent name that is a domain
        ("www.shop.example.test", "shop.example.test", &shop_sha1),
        ("v2.api.shop.example.test", "shop.example.test", &shop_sha1),
        // and at the master when none is
        ("unrelated.other.test", "example.test", &master_sha1),
    ];
    for (sni, domain, sha1) in cases {
        let resolved = server.domain_ok(&["resolve", sni, "--role", "ws", "--json"]);
        assert_eq!(resolved["sni"], sni, "{resolved}");
        assert_eq!(resolved["source"], "domain", "{sni}: {resolved}");
        assert_eq!(resolved["domain"], domain, "{sni}: {resolved}");
        assert_eq!(
            resolved["sha1_thumbprint"],
            sha1.as_str(),
            "{sni}: {resolved}"
        );
        assert!(!resolved["reason"].as_str().unwrap().is_empty());
        assert_eq!(&served_sha1(ws, Some(sni)), sha1, "handshake for {sni}");
    }
    let text = server.domain(&["resolve", "www.shop.example.test"]);
    assert_ok(&text);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains(&shop_sha1),
        "{}",
        describe(&text)
    );

    // Without the token, nothing.
    let server_url = format!("https://{}", server.admin);
    let denied = certfleet(&[
        "domain",
        "list",
        "--server",
        &server_url,
        "--data-dir",
        arg(&server.data_dir),
        "--token",
        "wrong",
    ]);
    assert_exit(&denied, 2);
    assert!(
        stderr(&denied).contains("authentication"),
        "{}",
        describe(&denied)
    );
}

#[test]
fn the_domain_tree_survives_a_restart() {
    let dir = TempDir::new();
    let (mut server, ws) = start(dir.path());
    server.domain_ok(&["add", "example.test", "--json"]);
    server.domain_ok(&["add", "shop.example.test", "--json"]);
    let (shop_pem, shop_crt) = self_signed_files(dir.path(), "shop.example.test");
    server.domain_ok(&["set-cert", "shop.example.test", arg(&shop_pem), "--json"]);

    server.stop();
    server.launch();

    let list = server.domain_ok(&["list", "--json"]);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["example.test", "shop.example.test"]);
    let shop_sha1 = sha1_fingerprint(&shop_crt);
    assert_eq!(
        list[1]["certificate"]["sha1_thumbprint"],
        shop_sha1.as_str()
    );
    let resolved = server.domain_ok(&["resolve", "www.shop.example.test", "--json"]);
    assert_eq!(resolved["sha1_thumbprint"], shop_sha1.as_str());
    assert_eq!(served_sha1(ws, Some("www.shop.example.test")), shop_sha1);
    let text = server.domain(&["list"]);
    assert_ok(&text);
    assert!(String::from_utf8_lossy(&text.stdout).contains("shop.example.test"));
}
