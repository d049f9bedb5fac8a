//! CSRs out, replies in: `csr new`, `csr sign` and `cert import`, with replies signed by
//! openssl standing in for an outside CA that changes what was asked for.

use crate::support::openssl::{openssl, openssl_verify};
use crate::support::run::{arg, assert_exit, assert_ok, certfleet, stdout_json, TempDir};
use std::fs;
use std::path::Path;

/// Signs `csr` with openssl as the CA in `ca`, adding `extensions` (an openssl extfile).
fn openssl_sign(dir: &TempDir, ca: &Path, csr: &Path, extensions: &str, out: &Path) {
    let ext = dir.join("ext.cnf");
    fs::write(&ext, extensions).unwrap();
    let signed = openssl([
        "x509",
        "-req",
        "-in",
        arg(csr),
        "-CA",
        arg(&ca.join("root.crt")),
        "-CAkey",
        arg(&ca.join("root.key")),
        "-set_serial",
        "4242",
        "-days",
        "30",
        "-extfile",
        arg(&ext),
        "-out",
        arg(out),
    ]);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stderr)
    );
}

#[test]
fn import_refuses_a_reply_whose_sans_or_key_differ_and_writes_nothing() {
    let dir = TempDir::new();
    let ca = dir.join("ca");
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&ca),
        "--cn",
        "Outside CA",
        "--key",
        "rsa2048",
    ]));
    assert_ok(&certfleet(&[
        "csr",
        "new",
        "--cn",
        "db.example.test",
        "--san",
        "db2.example.test",
        "--key",
        "rsa2048",
        "--out",
        arg(&dir.join("db")),
    ]));

    // The CA added a SAN nobody asked for.
    let added = dir.join("added.crt");
    openssl_sign(
        &dir,
        &ca,
        &dir.join("db.csr"),
        "subjectAltName=DNS:db.example.test,DNS:db2.example.test,DNS:extra.example.test\n",
        &added,
    );
    let out = certfleet(&[
        "cert",
        "import",
        "--csr",
        arg(&dir.join("db.csr")),
        "--cert",
        arg(&added),
        "--out",
        arg(&dir.join("imported")),
    ]);
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SAN DNS:extra.example.test is in the certificate but not in the CSR"),
        "{stderr}"
    );

    // The CA dropped one and added another: both differences are listed.
    let swapped = dir.join("swapped.crt");
    openssl_sign(
        &dir,
        &ca,
        &dir.join("db.csr"),
        "subjectAltName=DNS:db.example.test,DNS:other.example.test\n",
        &swapped,
    );
    let out = certfleet(&[
        "cert",
        "import",
        "--csr",
        arg(&dir.join("db.csr")),
        "--cert",
        arg(&swapped),
        "--out",
        arg(&dir.join("imported")),
    ]);
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DNS:other.example.test is in the certificate but not in the CSR"),
        "{stderr}"
    );
    assert!(
        stderr.contains("DNS:db2.example.test is in the CSR but not in the certificate"),
        "{stderr}"
    );

    // A reply for somebody else's CSR: the public key differs.
    assert_ok(&certfleet(&[
        "csr",
        "new",
        "--cn",
        "db.example.test",
        "--san",
        "db2.example.test",
        "--out",
        arg(&dir.join("stranger")),
    ]));
    let foreign = dir.join("foreign.crt");
    openssl_sign(
        &dir,
        &ca,
        &dir.join("stranger.csr"),
        "subjectAltName=DNS:db.example.test,DNS:db2.example.test\n",
        &foreign,
    );
    let out = certfleet(&[
        "cert",
        "import",
        "--csr",
        arg(&dir.join("db.csr")),
        "--cert",
        arg(&foreign),
        "--out",
        arg(&dir.join("imported")),
    ]);
    assert_exit(&out, 2);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("public key"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for suffix in [".crt", ".key", ".pem", ".chain.crt"] {
        assert!(
            !dir.join(&format!("imported{suffix}")).exists(),
            "imported{suffix} was written"
        );
    }

    // The faithful reply is accepted and written like `cert issue` writes.
    let good = dir.join("good.crt");
    openssl_sign(
        &dir,
        &ca,
        &dir.join("db.csr"),
        "subjectAltName=DNS:db.example.test,DNS:db2.example.test\n",
        &good,
    );
    assert_ok(&certfleet(&[
        "cert",
        "import",
        "--csr",
        arg(&dir.join("db.csr")),
        "--cert",
        arg(&good),
        "--chain",
        arg(&ca.join("root.crt")),
        "--out",
        arg(&dir.join("imported")),
    ]));
    for suffix in [".crt", ".key", ".pem", ".chain.crt"] {
        assert!(
            dir.join(&format!("imported{suffix}")).exists(),
            "imported{suffix} missing"
        );
    }
    openssl_verify(&ca.join("root.crt"), None, &dir.join("imported.crt")).unwrap();
}

#[test]
fn a_csr_without_sans_has_no_san_extension_and_the_ca_fills_in_the_cn() {
    let dir = TempDir::new();
    assert_ok(&certfleet(&[
        "csr",
        "new",
        "--cn",
        "legacy.example.test",
        "--no-san",
        "--out",
        arg(&dir.join("legacy")),
    ]));
    let text = openssl([
        "req",
        "-in",
        arg(&dir.join("legacy.csr")),
        "-noout",
        "-text",
        "-verify",
    ]);
    assert!(
        text.status.success(),
        "openssl cannot read or verify the CSR"
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(!text.contains("Subject Alternative Name"), "{text}");
    assert!(
        text.contains("CN = legacy.example.test") || text.contains("CN=legacy.example.test"),
        "{text}"
    );
    let json = stdout_json(&certfleet(&[
        "inspect",
        arg(&dir.join("legacy.csr")),
        "--json",
    ]));
    assert_eq!(json["kind"], "csr");
    assert!(json["csr"]["sans"].is_null());

    let ca = dir.join("ca");
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&ca),
        "--cn",
        "Fill Root",
        "--intermediate-cn",
        "Fill Issuing",
    ]));
    assert_ok(&certfleet(&[
        "csr",
        "sign",
        "--ca",
        arg(&ca),
        "--csr",
        arg(&dir.join("legacy.csr")),
        "--out",
        arg(&dir.join("reply.crt")),
    ]));
    assert_ok(&certfleet(&[
        "cert",
        "import",
        "--csr",
        arg(&dir.join("legacy.csr")),
        "--cert",
        arg(&dir.join("reply.crt")),
        "--out",
        arg(&dir.join("legacy-in")),
    ]));
    let json = stdout_json(&certfleet(&[
        "inspect",
        arg(&dir.join("legacy-in.crt")),
        "--json",
    ]));
    assert_eq!(
        json["certificates"][0]["sans"],
        serde_json::json!(["DNS:legacy.example.test"])
    );
    openssl_verify(
        &ca.join("root.crt"),
        Some(&dir.join("legacy-in.chain.crt")),
        &dir.join("legacy-in.crt"),
    )
    .unwrap();
}

#[test]
fn csr_sign_applies_its_policy() {
    let dir = TempDir::new();
    let ca = dir.join("ca");
    assert_ok(&certfleet(&[
        "ca",
        "init",
        "--out",
        arg(&ca),
        "--cn",
        "Policy Root",
    ]));
    assert_ok(&certfleet(&[
        "csr",
        "new",
        "--cn",
        "app.corp.example",
        "--san",
        "app.elsewhere.example",
        "--out",
        arg(&dir.join("app")),
    ]));
    let csr = dir.join("app.csr");
    let refused = certfleet(&[
        "csr",
        "sign",
        "--ca",
        arg(&ca),
        "--csr",
        arg(&csr),
        "--allow-domain",
        "corp.example",
        "--out",
        arg(&dir.join("app.crt")),
    ]);
    assert_exit(&refused, 2);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("app.elsewhere.example"));
    let refused = certfleet(&[
        "csr",
        "sign",
        "--ca",
        arg(&ca),
        "--csr",
        arg(&csr),
        "--days",
        "800",
        "--max-days",
        "397",
        "--out",
        arg(&dir.join("app.crt")),
    ]);
    assert_exit(&refused, 2);
    let refused = certfleet(&[
        "csr",
        "sign",
        "--ca",
        arg(&ca),
        "--csr",
        arg(&csr),
        "--usage",
        "client",
        "--server-only",
        "--out",
        arg(&dir.join("app.crt")),
    ]);
    assert_exit(&refused, 2);
    assert!(!dir.join("app.crt").exists());
    assert_ok(&certfleet(&[
        "csr",
        "sign",
        "--ca",
        arg(&ca),
        "--csr",
        arg(&csr),
        "--usage",
        "both",
        "--out",
        arg(&dir.join("app.crt")),
    ]));
    let json = stdout_json(&certfleet(&[
        "inspect",
        arg(&dir.join("app.crt")),
        "--json",
    ]));
    assert_eq!(
        json["certificates"][0]["extended_key_usage"],
        serde_json::json!(["serverAuth", "clientAuth"])
    );
}
