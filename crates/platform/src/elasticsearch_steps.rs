//! The next steps of an Elasticsearch node's transport layer (node-to-node TLS): the
//! `elasticsearch.yml` lines for a keystore that is its own truststore (a `pkcs12` or
//! `jks` output with `include_trust`), the `elasticsearch-keystore` commands for its
//! password, and warnings where `verification_mode: full` would fail for want of a name
//! in the certificate, or where the trust admits more than the cluster's nodes.

use crate::spec::{Format, IssuerKind, Service};
use certfleet_api::admin::plan_apply::ServiceReport;
use std::fmt::Write as _;

/// The `elasticsearch.yml` prefix of the transport layer's TLS settings.
const TRANSPORT: &str = "xpack.security.transport.ssl";

/// True for a service of an Elasticsearch `kind` (any case, e.g. `elasticsearch`).
pub fn elasticsearch_kind(kind: Option<&str>) -> bool {
    kind.is_some_and(|k| k.to_ascii_lowercase().contains("elasticsearch"))
}

/// What keeps `verification_mode: full` from succeeding for a node whose certificate
/// names `sans` (`DNS:x`, `IP:y`): the node's FQDN and an IP address must both be
/// there, since nodes reach each other at their publish addresses and check the name
/// or address they connected to. Empty when `full` will verify.
pub fn missing_for_full(service: &Service, sans: &[String]) -> Vec<String> {
    let mut missing = Vec::new();
    // The node's FQDN is the first DNS name of every service not issued by ACME.
    if let Some(fqdn) = service.dns_names.first() {
        if !sans.iter().any(|s| *s == format!("DNS:{fqdn}")) {
            missing.push(format!("the node's FQDN {fqdn} (DNS:{fqdn})"));
        }
    }
    if !sans.iter().any(|s| s.starts_with("IP:")) {
        missing.push(format!(
            "an IP address (give node {} its `ips`, or the service `ips`)",
            service.node
        ));
    }
    missing
}

/// Appends the transport-layer steps of `report`'s service to `t`, when it is an
/// Elasticsearch node with a keystore that holds its trust set; `passwords` is the
/// passwords file, when there is one.
pub fn transport_steps(
    t: &mut String,
    service: &Service,
    report: &ServiceReport,
    passwords: Option<&str>,
) {
    if !elasticsearch_kind(service.kind.as_deref()) {
        return;
    }
    // The model's outputs and the report's (placed paths) are in the same order.
    let Some((output, placed)) = service
        .outputs
        .iter()
        .zip(&report.outputs)
        .find(|(o, _)| o.include_trust)
    else {
        return;
    };
    let store_type = if output.format == Format::Jks {
        "jks"
    } else {
        "PKCS12"
    };
    let missing = missing_for_full(service, &report.sans);
    let mode = if missing.is_empty() {
        "full"
    } else {
        "certificate"
    };
    let _ = writeln!(
        t,
        "     transport layer (node-to-node TLS), in elasticsearch.yml on {} (the\n     file's path there; a relative path is relative to the config directory):",
        service.node
    );
    for (key, value) in [
        ("enabled", "true"),
        ("client_authentication", "required"),
        ("verification_mode", mode),
        ("keystore.path", output.path.as_str()),
        ("keystore.type", store_type),
        ("truststore.path", output.path.as_str()),
        ("truststore.type", store_type),
    ] {
        let _ = writeln!(t, "       {TRANSPORT}.{key}: {value}");
    }
    let _ = writeln!(
        t,
        "     its password is the entry {} of\n     {}; put it into the Elasticsearch keystore, once per setting:\n       elasticsearch-keystore add {TRANSPORT}.keystore.secure_password\n       elasticsearch-keystore add {TRANSPORT}.truststore.secure_password",
        placed.path,
        passwords.unwrap_or("passwords.json"),
    );
    if !missing.is_empty() && report.subject.is_some() {
        let _ = writeln!(
            t,
            "     warning:       verification_mode: full would fail: its certificate lacks {};\n                    certificate (chain only) until the model gives it those names",
            missing.join(" and ")
        );
    }
    if service.issuer == IssuerKind::Internal {
        let _ = writeln!(
            t,
            "     warning:       its transport truststore trusts the platform's internal CA, so every\n                    certificate that CA signs is admitted as a node of the cluster; give the\n                    transport-layer services ca = \"self-signed\" to admit only the nodes"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{parse, Locator};

    fn platform(ips: &str, ca: &str) -> crate::spec::Platform {
        let text = format!(
            "[platform]\nname = \"es\"\n[[node]]\nname = \"es01\"\nfqdn = \"es01.corp.example\"\n{ips}\n[[service]]\nname = \"es-transport-1\"\nkind = \"elasticsearch\"\nnode = \"es01\"\nca = \"{ca}\"\n[[service.output]]\nformat = \"pkcs12\"\npath = \"/etc/elasticsearch/certs/transport.p12\"\nalias = \"transport\"\ninclude_trust = true\n"
        );
        let loc = Locator::new("es.toml", &text);
        crate::validate::validate(&loc, &parse(&loc, &text).unwrap()).unwrap()
    }

    fn report(sans: &[&str]) -> ServiceReport {
        serde_json::from_value(serde_json::json!({
            "name": "es-transport-1", "kind": "elasticsearch", "node": "es01",
            "issuer": "self-signed", "usage": "both", "status": "ready",
            "cn": "es01.corp.example", "subject": "CN=es01.corp.example",
            "sans": sans, "not_after": null, "server_thumbprint": null,
            "client_thumbprint": null, "sha256_fingerprint": null, "trusts": [],
            "trust": [], "allowed_client_thumbprints": [], "allowed_clients": [],
            "listeners": [], "reload": null, "notes": [],
            "outputs": [{"format": "pkcs12", "path": "/stage/etc/elasticsearch/certs/transport.p12", "include_trust": true}],
        }))
        .unwrap()
    }

    fn steps(ips: &str, ca: &str, sans: &[&str]) -> String {
        let p = platform(ips, ca);
        let mut t = String::new();
        transport_steps(
            &mut t,
            &p.services[0],
            &report(sans),
            Some("/stage/.certfleet/es/passwords.json"),
        );
        t
    }

    #[test]
    fn a_node_named_by_fqdn_and_address_gets_full_verification() {
        let t = steps(
            "ips = [\"10.0.0.11\"]",
            "self-signed",
            &["DNS:es01.corp.example", "IP:10.0.0.11"],
        );
        for line in [
            "xpack.security.transport.ssl.verification_mode: full\n",
            "xpack.security.transport.ssl.keystore.path: /etc/elasticsearch/certs/transport.p12\n",
            "xpack.security.transport.ssl.truststore.path: /etc/elasticsearch/certs/transport.p12\n",
            "xpack.security.transport.ssl.keystore.type: PKCS12\n",
            "elasticsearch-keystore add xpack.security.transport.ssl.keystore.secure_password\n",
            "elasticsearch-keystore add xpack.security.transport.ssl.truststore.secure_password\n",
            "entry /stage/etc/elasticsearch/certs/transport.p12",
        ] {
            assert!(t.contains(line), "{line}:\n{t}");
        }
        assert!(!t.contains("warning"), "{t}");
    }

    #[test]
    fn a_missing_address_or_a_platform_wide_ca_is_warned_about() {
        let t = steps("", "self-signed", &["DNS:es01.corp.example"]);
        assert!(
            t.contains("verification_mode: certificate\n")
                && t.contains("verification_mode: full would fail")
                && t.contains("an IP address (give node es01 its `ips`"),
            "{t}"
        );
        let t = steps(
            "ips = [\"10.0.0.11\"]",
            "internal",
            &["DNS:es01.corp.example", "IP:10.0.0.11"],
        );
        assert!(
            t.contains("verification_mode: full\n")
                && t.contains("every\n                    certificate that CA signs is admitted"),
            "{t}"
        );
    }
}
