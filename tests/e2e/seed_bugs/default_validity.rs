//! Seed 002, "Create a self-signed certificate. In this example, the certificate expires
//! 365 days from now": certfleet's own default for a leaf is the same year, whatever
//! makes it. A certificate from `cert issue`, from `csr sign` and from `apply` on a
//! platform model without `days`, none given a validity, lasts 365 days as
//! `openssl x509 -dates` reads it.

use crate::support::openssl::openssl;
use crate::support::pki::Ca;
use crate::support::run::{arg, assert_ok, certfleet, TempDir};
use std::path::Path;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// The lifetime in whole days of the first certificate in `cert`, from openssl's
/// `notBefore=` and `notAfter=` lines.
fn lifetime_days(cert: &Path) -> i64 {
    let out = openssl(["x509", "-in", arg(cert), "-noout", "-dates"]);
    assert!(
        out.status.success(),
        "openssl x509 -dates {}",
        cert.display()
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let field = |name: &str| -> OffsetDateTime {
        let value = text
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {text}"));
        // openssl prints e.g. "Dec  7 06:40:01 2026 GMT".
        let squeezed = value.split_whitespace().collect::<Vec<_>>().join(" ");
        let format = format_description!(
            "[month repr:short] [day padding:none] [hour]:[minute]:[second] [year] GMT"
        );
        PrimitiveDateTime::parse(&squeezed, format)
            .unwrap_or_else(|e| panic!("{squeezed}: {e}"))
            .assume_utc()
    };
    (field("notAfter=") - field("notBefore=")).whole_days()
}

#[test]
fn create_self_signed_certificate_expiring_365_days_from_now_is_the_default() {
    let tmp = TempDir::new();
    let ca = Ca::new(tmp.path(), "Gateway");

    let issued = tmp.join("gateway");
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--ca",
        arg(ca.dir()),
        "--cn",
        "gateway.example.test",
        "--out",
        arg(&issued),
    ]));
    assert_eq!(lifetime_days(&tmp.join("gateway.crt")), 365, "cert issue");

    let self_signed = tmp.join("selfsigned");
    assert_ok(&certfleet(&[
        "cert",
        "issue",
        "--self-signed",
        "--cn",
        "gateway.example.test",
        "--out",
        arg(&self_signed),
    ]));
    assert_eq!(
        lifetime_days(&tmp.join("selfsigned.crt")),
        365,
        "cert issue --self-signed"
    );

    let request = tmp.join("ws");
    assert_ok(&certfleet(&[
        "csr",
        "new",
        "--cn",
        "ws.example.test",
        "--out",
        arg(&request),
    ]));
    let signed = tmp.join("ws.signed.crt");
    assert_ok(&certfleet(&[
        "csr",
        "sign",
        "--ca",
        arg(ca.dir()),
        "--csr",
        arg(&tmp.join("ws.csr")),
        "--out",
        arg(&signed),
    ]));
    assert_eq!(lifetime_days(&signed), 365, "csr sign");

    let root = tmp.join("stage");
    std::fs::create_dir(&root).unwrap();
    let model = tmp.join("gateway.toml");
    std::fs::write(
        &model,
        "[platform]\nname = \"gateway\"\nca = \"internal\"\nkey = \"ecdsa-p256\"\n\n\
         [[node]]\nname = \"gw1\"\nfqdn = \"gw1.corp.example\"\n\n\
         [[service]]\nname = \"media\"\nnode = \"gw1\"\nusage = \"server\"\n\n\
         [[service.output]]\nformat = \"pem-pair\"\npath = \"/srv/media/gateway\"\n",
    )
    .unwrap();
    assert_ok(&certfleet(&[
        "apply",
        "--model",
        arg(&model),
        "--root",
        arg(&root),
        "--json",
    ]));
    assert_eq!(
        lifetime_days(&root.join("srv/media/gateway.crt")),
        365,
        "the platform model's default days"
    );
}
