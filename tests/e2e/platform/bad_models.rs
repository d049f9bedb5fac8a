//! Models with a mistake: `plan` and `apply` exit 2, say which line or key is wrong, and
//! write nothing under the root.

use super::snapshot;
use crate::support::run::{arg, certfleet, describe, TempDir};

/// A small valid model; each case below breaks one thing in it.
const GOOD: &str = r#"[platform]
name = "orders"
ca = "internal"
ca_dir = "ca"
key = "ecdsa-p256"
days = 30

[[node]]
name = "app01"
fqdn = "app01.shop.example"
ips = ["10.70.0.5"]

[[service]]
name = "orders-api"
node = "app01"
usage = "both"
listeners = ["0.0.0.0:8443"]

[[service.output]]
format = "pem-pair"
path = "/srv/orders/tls/api"

[[service]]
name = "billing"
node = "app01"
usage = "client"

[[service.output]]
format = "pem-trust"
path = "/srv/billing/trust.pem"

[[connection]]
from = "billing"
to = "orders-api"
mtls = false
"#;

/// The 1-based line of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} is not in the model"))
        + 1
}

/// Runs plan and apply on `model`: both must exit 2 with stderr naming `token` and
/// `line` (or the `key`), and the root must stay empty.
fn refused(case: &str, model: &str, token: &str, line: usize, key: &str) {
    let dir = TempDir::new();
    let file = dir.join("model.toml");
    std::fs::write(&file, model).unwrap();
    let root = dir.join("root");
    std::fs::create_dir(&root).unwrap();
    for command in ["plan", "apply"] {
        let out = certfleet(&[
            command,
            "--model",
            arg(&file),
            "--root",
            arg(&root),
            "--json",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{case}: {command} should exit 2\n{}",
            describe(&out)
        );
        assert!(
            stderr.contains(token),
            "{case}: {command}'s error does not mention '{token}'\n{}",
            describe(&out)
        );
        let names_line = stderr.contains(&format!("line {line}"))
            || stderr.contains(&format!(":{line}:"))
            || stderr.contains(&format!(":{line} "));
        assert!(
            names_line || stderr.contains(key),
            "{case}: {command}'s error names neither line {line} nor the key {key}\n{}",
            describe(&out)
        );
        assert!(
            snapshot(&root).is_empty(),
            "{case}: {command} wrote {:?}",
            snapshot(&root).keys().collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_unbroken_model_applies() {
    // So that the cases below fail for their mistake and nothing else.
    let dir = TempDir::new();
    let file = dir.join("model.toml");
    std::fs::write(&file, GOOD).unwrap();
    let root = dir.join("root");
    let out = certfleet(&[
        "apply",
        "--model",
        arg(&file),
        "--root",
        arg(&root),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(root.join("srv/orders/tls/api.crt").is_file());
    assert!(root.join("srv/billing/trust.pem").is_file());
}

#[test]
fn a_service_on_an_unknown_node() {
    let model = GOOD.replacen(
        "node = \"app01\"\nusage = \"both\"",
        "node = \"app07\"\nusage = \"both\"",
        1,
    );
    let line = line_of(&model, "node = \"app07\"");
    refused("unknown node", &model, "app07", line, "service.node");
}

#[test]
fn a_connection_to_an_unknown_service() {
    let model = GOOD.replace("to = \"orders-api\"", "to = \"order-api\"");
    let line = line_of(&model, "to = \"order-api\"");
    refused(
        "unknown service",
        &model,
        "order-api",
        line,
        "connection.to",
    );
}

#[test]
fn two_services_with_one_name() {
    let model = GOOD.replace("name = \"billing\"", "name = \"orders-api\"");
    // The second definition is the one named.
    let second = model
        .match_indices("name = \"orders-api\"")
        .nth(1)
        .unwrap()
        .0;
    let line = model[..second].lines().count() + 1;
    refused(
        "duplicate service",
        &model,
        "orders-api",
        line,
        "service.name",
    );
}

#[test]
fn an_output_in_an_unknown_format() {
    let model = GOOD.replace("format = \"pem-pair\"", "format = \"pfx\"");
    let line = line_of(&model, "format = \"pfx\"");
    refused("bad format", &model, "pfx", line, "service.output.format");
}

#[test]
fn an_unknown_key() {
    // A typo: "listener" for "listeners".
    let model = GOOD.replace("listeners = [", "listener = [");
    let line = line_of(&model, "listener = [");
    refused("unknown key", &model, "listener", line, "listener");
}

#[test]
fn a_client_only_service_as_a_server() {
    // billing has no server certificate, so nothing can connect to it.
    let model =
        format!("{GOOD}\n[[connection]]\nfrom = \"orders-api\"\nto = \"billing\"\nmtls = false\n");
    let line = model.lines().count() - 1;
    refused("client as server", &model, "billing", line, "connection.to");
}

#[test]
fn mutual_tls_from_a_server_only_service() {
    let model = GOOD
        .replace("usage = \"client\"", "usage = \"server\"")
        .replace("mtls = false", "mtls = true");
    // billing is now server-only, so it has no client certificate to present.
    let line = line_of(&model, "from = \"billing\"");
    refused(
        "mtls without a client certificate",
        &model,
        "billing",
        line,
        "connection.from",
    );
}

#[test]
fn an_unknown_issuer() {
    let model = GOOD.replace("ca = \"internal\"", "ca = \"letsencrypt\"");
    let line = line_of(&model, "ca = \"letsencrypt\"");
    refused("unknown issuer", &model, "letsencrypt", line, "platform.ca");
}

#[test]
fn broken_toml() {
    let model = GOOD.replacen(
        "[[service]]\nname = \"billing\"",
        "[[service]\nname = \"billing\"",
        1,
    );
    let line = model.lines().position(|l| l == "[[service]").unwrap() + 1;
    refused("broken TOML", &model, "model.toml", line, "[[service]");
}

#[test]
fn addresses_given_as_one_string() {
    let model = GOOD.replace("ips = [\"10.70.0.5\"]", "ips = \"10.70.0.5\"");
    let line = line_of(&model, "ips = \"10.70.0.5\"");
    refused("wrong type", &model, "ips", line, "node.ips");
}

#[test]
fn an_alias_on_a_truststore() {
    // Truststore entries are named after each certificate's CN; an alias would be
    // ignored, so it is refused rather than silently dropped.
    for (format, path) in [
        ("jks-trust", "/srv/billing/trust.jks"),
        ("pkcs12-trust", "/srv/billing/trust.p12"),
        ("pem-trust", "/srv/billing/trust.pem"),
    ] {
        let model = GOOD.replace(
            "format = \"pem-trust\"\npath = \"/srv/billing/trust.pem\"\n",
            &format!("format = \"{format}\"\npath = \"{path}\"\nalias = \"corp-root\"\n"),
        );
        let line = line_of(&model, "alias = \"corp-root\"");
        refused(
            &format!("alias on {format}"),
            &model,
            "alias has no effect on a truststore",
            line,
            "service.output.alias",
        );
    }
}

#[test]
fn addresses_on_an_acme_service() {
    // A public CA issues no certificate for an IP address (let alone a private one).
    let model = GOOD.replacen(
        "usage = \"both\"\n",
        "usage = \"both\"\nca = \"acme\"\ncn = \"orders.shop.example\"\nips = [\"10.70.0.6\"]\n",
        1,
    );
    let line = line_of(&model, "ips = [\"10.70.0.6\"]");
    refused("ips on ACME", &model, "IP address", line, "service.ips");
}

#[test]
fn a_truststore_that_should_include_its_trust() {
    // include_trust belongs on a pkcs12 or jks keystore, not on a truststore or PEM file.
    let model = GOOD.replacen(
        "path = \"/srv/billing/trust.pem\"",
        "path = \"/srv/billing/trust.pem\"\ninclude_trust = true",
        1,
    );
    let line = line_of(&model, "include_trust = true");
    refused(
        "include_trust on pem-trust",
        &model,
        "service.output.include_trust",
        line,
        "service.output.include_trust",
    );
}
