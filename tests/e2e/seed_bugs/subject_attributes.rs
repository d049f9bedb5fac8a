//! Seed 001, keytool's `-dname "CN=TestRoot, OU=Dev, O=Company, C=US"`: the root, the
//! CSR and the server certificate carry the organization, unit, locality, state and
//! country they were given, as openssl prints them, in the order C, ST, L, O, OU, CN.
//! A CSR signed with `csr sign` keeps the attributes it asks for; a platform model's
//! `[platform]` defaults and a service's own values reach the certificate `apply`
//! writes; a country that is not two letters is a usage error naming `--country`.

use crate::support::openssl::openssl;
use crate::support::run::{arg, assert_exit, assert_ok, certfleet, describe, TempDir};
use std::path::Path;

/// The attribute flags of the manual's `-dname`, with a locality and a state added.
const ATTRIBUTES: [&str; 10] = [
    "--org",
    "Company",
    "--org-unit",
    "Dev",
    "--locality",
    "Springfield",
    "--state",
    "Oregon",
    "--country",
    "US",
];

/// The subject openssl prints for `kind` (`x509` or `req`) in RFC 2253 form, which lists
/// the attributes from the last to the first.
fn subject(kind: &str, file: &Path) -> String {
    let out = openssl([
        kind,
        "-in",
        arg(file),
        "-noout",
        "-subject",
        "-nameopt",
        "RFC2253",
    ]);
    assert!(out.status.success(), "openssl {kind} {}", file.display());
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn expected(cn: &str) -> String {
    format!("subject=CN={cn},OU=Dev,O=Company,L=Springfield,ST=Oregon,C=US")
}

#[test]
fn keytool_genkeypair_dname_root_and_server_carry_ou_o_c() {
    let tmp = TempDir::new();
    let ca = tmp.join("ca");
    let mut args = vec!["ca", "init", "--out", arg(&ca), "--cn", "TestRoot"];
    args.extend(ATTRIBUTES);
    assert_ok(&certfleet(&args));
    assert_eq!(subject("x509", &ca.join("root.crt")), expected("TestRoot"));

    let server = tmp.join("server");
    let mut args = vec![
        "cert",
        "issue",
        "--ca",
        arg(&ca),
        "--cn",
        "testserver.example.test",
        "--out",
        arg(&server),
    ];
    args.extend(ATTRIBUTES);
    assert_ok(&certfleet(&args));
    assert_eq!(
        subject("x509", &tmp.join("server.crt")),
        expected("testserver.example.test")
    );

    let request = tmp.join("node");
    let mut args = vec![
        "csr",
        "new",
        "--cn",
        "node1.example.test",
        "--out",
        arg(&request),
    ];
    args.extend(ATTRIBUTES);
    assert_ok(&certfleet(&args));
    let csr = tmp.join("node.csr");
    assert_eq!(subject("req", &csr), expected("node1.example.test"));

    let signed = tmp.join("node.signed.crt");
    assert_ok(&certfleet(&[
        "csr",
        "sign",
        "--ca",
        arg(&ca),
        "--csr",
        arg(&csr),
        "--out",
        arg(&signed),
    ]));
    assert_eq!(
        subject("x509", &signed),
        expected("node1.example.test"),
        "csr sign keeps the CSR's subject"
    );
}

#[test]
fn keytool_genkeypair_dname_from_the_platform_model() {
    let tmp = TempDir::new();
    let root = tmp.join("stage");
    std::fs::create_dir(&root).unwrap();
    let model = tmp.join("cassandra.toml");
    std::fs::write(
        &model,
        "[platform]\nname = \"cassandra\"\norg = \"Test Ltd\"\ncountry = \"US\"\n\
         state = \"Oregon\"\n\n\
         [[node]]\nname = \"db1\"\nfqdn = \"db1.corp.example\"\n\n\
         [[service]]\nname = \"cassandra\"\nnode = \"db1\"\norg_unit = \"Test\"\n\
         locality = \"Springfield\"\n\n\
         [[service.output]]\nformat = \"pem-pair\"\npath = \"/etc/cassandra/node\"\n",
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
        subject("x509", &root.join("etc/cassandra/node.crt")),
        "subject=CN=db1.corp.example,OU=Test,O=Test Ltd,L=Springfield,ST=Oregon,C=US"
    );

    // A new organization in the model renews the certificate on the next apply.
    let text = std::fs::read_to_string(&model).unwrap();
    std::fs::write(&model, text.replace("Test Ltd", "Other Ltd")).unwrap();
    let out = certfleet(&[
        "apply",
        "--model",
        arg(&model),
        "--root",
        arg(&root),
        "--json",
    ]);
    assert_ok(&out);
    assert_eq!(
        subject("x509", &root.join("etc/cassandra/node.crt")),
        "subject=CN=db1.corp.example,OU=Test,O=Other Ltd,L=Springfield,ST=Oregon,C=US",
        "{}",
        describe(&out)
    );
}

#[test]
fn keytool_genkeypair_dname_with_a_three_letter_country_is_refused() {
    let tmp = TempDir::new();
    let commands: [Vec<&str>; 3] = [
        vec!["ca", "init", "--cn", "TestRoot", "--out"],
        vec!["csr", "new", "--cn", "node1.example.test", "--out"],
        vec![
            "cert",
            "issue",
            "--self-signed",
            "--cn",
            "x.example.test",
            "--out",
        ],
    ];
    let out_dir = tmp.join("out");
    for mut args in commands {
        args.extend([arg(&out_dir), "--country", "USA"]);
        let out = certfleet(&args);
        assert_exit(&out, 2);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--country") && stderr.contains("USA"),
            "{}",
            describe(&out)
        );
        let written: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(written.is_empty(), "{args:?} wrote {written:?}");
    }
}
